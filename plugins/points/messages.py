"""The points family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    # the names of the family's rules
    "rule.points-per-yuan": {ZH: "每消费 1 元得积分", EN: "points per yuan spent"},
    "rule.coupon-orders-earn-nothing": {ZH: "用券订单不积分", EN: "orders with coupons earn no points"},
    "rule.one-award-per-order": {ZH: "每笔订单只积一次分", EN: "one award per order"},
    "rule.proportional-refund": {ZH: "退款按比例收回积分", EN: "refunds take points back in proportion"},
    "rule.check-in-points": {ZH: "签到积分", EN: "check-in points"},
    "rule.check-in-once-a-day": {ZH: "每天只能签到一次", EN: "one check-in a day"},
    "rule.engagement-points": {ZH: "互动积分", EN: "engagement points"},
    "rule.engagement-daily-cap": {ZH: "互动积分每日上限", EN: "daily cap on engagement points"},
    "rule.engagement-once-per-ref": {ZH: "同一互动只积一次分", EN: "one award per engagement"},
}
