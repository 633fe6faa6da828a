"""The insights family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    "invalid.insights_range": {ZH: "日期范围无效：开始日期不能晚于结束日期，且最多 {max_days} 天",
                               EN: "from must not be after to, and the range may span at most {max_days} days"},
}
