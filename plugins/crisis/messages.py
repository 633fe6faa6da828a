"""The crisis family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    "ALERT_NOT_FOUND": {ZH: "本品牌没有告警 {alert_id}", EN: "no alert {alert_id} in this brand"},
    "ALERT_ALREADY_RESOLVED": {ZH: "告警 {alert_id} 已于 {resolved_at} 解决",
                               EN: "alert {alert_id} was resolved at {resolved_at}"},
    # the names of the family's rules, and the sentences of its notes
    "rule.count-feedback": {ZH: "舆情计数", EN: "feedback counted"},
    "rule.current-reading": {ZH: "当前读数", EN: "current reading"},
    "rule.escalate-missed-deadline": {ZH: "超时未响应升级", EN: "escalated: response deadline missed"},
}
