"""The tiers family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    # the names of the family's rules
    "rule.growth-per-yuan": {ZH: "每消费 1 元得成长值", EN: "growth per yuan spent"},
    "rule.growth-once-per-order": {ZH: "每笔订单只计一次成长值", EN: "growth counted once per order"},
    "rule.refund-takes-growth-back": {ZH: "退款扣回成长值", EN: "refunds take growth back"},
    "rule.upgrade-on-threshold": {ZH: "成长值达标升级", EN: "upgrade at the growth threshold"},
    "rule.first-order-upgrade": {ZH: "首单升级", EN: "first-order upgrade"},
    "rule.accelerated-upgrade": {ZH: "连续高消费加速升级", EN: "accelerated upgrade after months of high spend"},
    "rule.accelerated-upgrade-monthly-spend": {ZH: "加速升级：按月累计消费", EN: "accelerated upgrade: spend kept per month"},
    "rule.refund-undoes-upgrade": {ZH: "退款撤销升级", EN: "a refund undoes the upgrade"},
    "rule.validity-end-deduction": {ZH: "等级有效期满扣减成长值", EN: "growth deducted at the end of the tier's validity"},
    "rule.validity-end-renewal": {ZH: "等级有效期满重新定级", EN: "tier renewed at the end of its validity"},
    "rule.validity-end-regrade": {ZH: "等级有效期满重新定级", EN: "re-graded at the end of the tier's validity"},
    "rule.rolling-12-months": {ZH: "按近 12 个月消费定级", EN: "graded on the last 12 months"},
    "rule.rolling-12-months-window-moved": {ZH: "近 12 个月窗口移动后重新定级", EN: "re-graded as the 12-month window moved"},
    "rule.paid-membership": {ZH: "付费会员", EN: "paid membership"},
    "rule.upgrade-gift": {ZH: "升级礼包", EN: "upgrade gift"},
    "rule.birthday-coupon": {ZH: "生日券", EN: "birthday coupon"},
}
