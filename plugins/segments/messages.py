"""The segments family's sentences, in Chinese and English: the names of stages and segments, and the coupon
eligibility reasons it adds."""

from rules.messages import EN, ZH

NAMES: dict[str, dict[str, str]] = {
    "STAGE_PROSPECT": {ZH: "潜在会员（未购买）", EN: "prospect (no order yet)"},
    "STAGE_NEW": {ZH: "新客", EN: "new"},
    "STAGE_ACTIVE": {ZH: "活跃", EN: "active"},
    "STAGE_SLEEPING": {ZH: "沉睡", EN: "sleeping"},
    "STAGE_DORMANT": {ZH: "休眠", EN: "dormant"},
    "STAGE_LOST": {ZH: "流失", EN: "lost"},
    "VALUE_HIGH": {ZH: "高价值", EN: "high value"},
    "VALUE_MEDIUM": {ZH: "中价值", EN: "medium value"},
    "VALUE_LOW": {ZH: "低价值", EN: "low value"},
    "RFM_IMPORTANT_VALUE": {ZH: "重要价值客户", EN: "important value"},
    "RFM_IMPORTANT_KEEP": {ZH: "重要保持客户", EN: "important to keep"},
    "RFM_IMPORTANT_DEVELOP": {ZH: "重要发展客户", EN: "important to develop"},
    "RFM_IMPORTANT_RETAIN": {ZH: "重要挽留客户", EN: "important to win back"},
    "RFM_GENERAL_VALUE": {ZH: "一般价值客户", EN: "general value"},
    "RFM_GENERAL_KEEP": {ZH: "一般保持客户", EN: "general to keep"},
    "RFM_GENERAL_DEVELOP": {ZH: "一般发展客户", EN: "general to develop"},
    "RFM_GENERAL_RETAIN": {ZH: "一般挽留客户", EN: "general to win back"},
    "PERSONA_HIGH_NET_WORTH": {ZH: "高净值型", EN: "high net worth"},
    "PERSONA_HIGH_FREQUENCY": {ZH: "高频活跃型", EN: "high frequency"},
    "PERSONA_GROWTH": {ZH: "潜力成长型", EN: "growing"},
    "PERSONA_DORMANT": {ZH: "沉睡流失型", EN: "dormant or lost"},
}

MESSAGES: dict[str, dict[str, str]] = {
    **{f"segment.{code}": text for code, text in NAMES.items()},
    "coupon.STAGE": {ZH: "仅限特定生命周期阶段的会员", EN: "only for members in certain lifecycle stages"},
    "coupon.SEGMENTS": {ZH: "仅限特定分群的会员", EN: "only for members in certain segments"},
    # the names of the family's rules, and the sentences of its notes
    "rule.member-registered": {ZH: "新会员入会", EN: "a member joined"},
    "rule.order-makes-active": {ZH: "下单即为活跃", EN: "an order makes the member active"},
    "rule.order-counted-once": {ZH: "每笔订单只计一次", EN: "each order counted once"},
    "rule.refund-netted": {ZH: "退款冲减订单", EN: "refunds netted from their order"},
    "rule.time-passes": {ZH: "随时间变化的阶段", EN: "stages that change with time"},
    "rule.value-line": {ZH: "高价值线：近12个月净消费前20%", EN: "the high-value line: the top 20% by 12-month net spend"},
    "rule.backfill": {ZH: "启用分群时补算已有会员", EN: "existing members judged when segments were turned on"},
    "rule.segment-journey": {ZH: "分群旅程", EN: "segment journey"},
    "note.segments_order_counted": {ZH: "订单 {orderId} 已计入", EN: "order {orderId} was counted before"},
    "note.segments_order_unknown": {ZH: "订单 {orderId} 不在分群保留的订单中",
                                    EN: "order {orderId} is not among the orders segmentation keeps"},
    "note.segments_refund_netted": {ZH: "退款 {refundId} 已冲减过", EN: "refund {refundId} was netted before"},
    "note.journey_already_ran": {ZH: "旅程 {journey} 本次进入 {segment} 已执行过",
                                 EN: "journey {journey} already ran for this entry into {segment}"},
    "note.journey_cooldown": {ZH: "旅程 {journey} 未执行：{lastRunAt} 已执行，仍在 {cooldownDays} 天冷却期内",
                              EN: "journey {journey} did not run: it ran at {lastRunAt}, within its {cooldownDays}-day cool-down"},
    "note.journey_no_template": {ZH: "旅程 {journey} 未执行：没有优惠券模板 {couponTemplateId}",
                                 EN: "journey {journey} did not run: coupon template {couponTemplateId} is not configured"},
}
