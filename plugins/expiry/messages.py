"""The expiry family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    # the names of the family's rules
    "rule.expired-lots-written-off": {ZH: "过期积分清零", EN: "expired points written off"},
    "rule.remind-before-expiry": {ZH: "积分到期提醒", EN: "reminder before points expire"},
}
