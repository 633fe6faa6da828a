"""The coupons family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    "COUPON_TEMPLATE_NOT_FOUND": {ZH: "品牌没有优惠券模板 {template_id}",
                                  EN: "the brand has no coupon template {template_id}"},
    "COUPON_NOT_ELIGIBLE": {ZH: "暂不能领取：{reasons}", EN: "not eligible: {reasons}"},
    "coupon.NOT_CLAIMABLE": {ZH: "该券由品牌规则发放，不能领取", EN: "this coupon is given by the brand's rules, not claimed"},
    "coupon.PAUSED": {ZH: "品牌已暂停发放该券", EN: "this coupon is paused by the brand for now"},
    "coupon.NOT_STARTED": {ZH: "{starts_at} 开始领取", EN: "claims open at {starts_at}"},
    "coupon.ENDED": {ZH: "该券已过有效期", EN: "this coupon's validity has ended"},
    "coupon.OUT_OF_STOCK": {ZH: "已被领完", EN: "all coupons of this kind are gone"},
    "coupon.LIMIT_REACHED": {ZH: "每位会员限领 {limit} 张", EN: "at most {limit} per member"},
    "coupon.TIER": {ZH: "仅限{tiers}会员", EN: "for {tiers} members"},
    "coupon.PAID_MEMBER": {ZH: "仅限付费会员", EN: "for paid members"},
    "coupon.NEW_MEMBER": {ZH: "仅限 {days} 天内注册的新会员", EN: "for members who joined in the last {days} days"},
    "coupon.BIRTHDAY_MONTH": {ZH: "仅限生日月的会员", EN: "for members in their birthday month"},
    "coupon.TAGS": {ZH: "不适用于您所在的会员群组", EN: "not for this member's group"},
    "coupon.FIRST_ORDER": {ZH: "仅限尚未下单的会员", EN: "for members who have not ordered yet"},
    # the names of the family's rules, and the sentences of its notes
    "rule.welcome-coupon": {ZH: "新人券", EN: "welcome coupon"},
    "rule.coupon-used-by-order": {ZH: "订单用券", EN: "coupon used by an order"},
    "rule.coupon-not-usable": {ZH: "优惠券不可用", EN: "coupon not usable"},
    "rule.first-order-recorded": {ZH: "记录首单", EN: "first order recorded"},
    "rule.late-delivery-compensation": {ZH: "延迟送达补偿券", EN: "late-delivery compensation coupon"},
    "note.coupon_not_usable": {ZH: "优惠券 {couponId} 未使用", EN: "coupon {couponId} was not used"},
}
