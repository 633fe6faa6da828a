"""The referral family's sentences, in Chinese and English (merged into rules/messages.py's catalogue)."""

from rules.messages import EN, ZH

MESSAGES: dict[str, dict[str, str]] = {
    "REFERRAL_REFUSED": {ZH: "邀请码不可用", EN: "the referral code was refused"},
    "invalid.not_referral_code": {ZH: "这不是一个邀请码", EN: "not a referral code"},
    "referral.NOT_ENABLED": {ZH: "本品牌没有邀请活动", EN: "this brand runs no referral programme"},
    "referral.ALREADY_BOUND": {ZH: "您已经绑定过邀请人", EN: "this member already has an inviter"},
    "referral.UNKNOWN_CODE": {ZH: "本品牌没有会员使用这个邀请码", EN: "no member of this brand has this code"},
    "referral.SELF_REFERRAL": {ZH: "不能邀请自己", EN: "members cannot invite themselves"},
    "referral.LOOP": {ZH: "邀请人是由您邀请的，不能互相邀请", EN: "the inviter was invited by this member"},
    "referral.ALREADY_REFERRED": {ZH: "该手机号或微信账号以前已被邀请过",
                                  EN: "this phone number or WeChat account was referred before"},
    "referral.WINDOW_CLOSED": {ZH: "已超过注册后可填写邀请码的期限",
                               EN: "codes are accepted only within the brand's days after joining"},
    # the names of the family's rules, and the sentences of its notes
    "rule.referral-bound": {ZH: "绑定邀请人", EN: "inviter bound"},
    "rule.referral-refused": {ZH: "邀请码未绑定", EN: "referral code refused"},
    "rule.inviter-reward": {ZH: "邀请人奖励", EN: "inviter's reward"},
    "rule.invitee-credit": {ZH: "新人受邀礼", EN: "invitee's welcome credit"},
    "rule.invite-count-ladder": {ZH: "邀请人数阶梯奖励", EN: "invite-count ladder reward"},
    "rule.commission-level-1": {ZH: "一级佣金", EN: "level-1 commission"},
    "rule.commission-level-2": {ZH: "二级佣金", EN: "level-2 commission"},
    "rule.kol-commission-by-monthly-sales": {ZH: "KOL 按月销售额计佣", EN: "KOL commission by monthly sales"},
    "rule.commission-pending": {ZH: "佣金待结算", EN: "commission pending"},
    "rule.refund-claws-back-commission": {ZH: "退款扣回佣金", EN: "refund claws back commission"},
    "rule.refund-window-over": {ZH: "退款期结束，佣金结算", EN: "refund window over: commission settled"},
    "rule.settle-the-rest-tomorrow": {ZH: "余下的明天结算", EN: "the rest settles tomorrow"},
    "rule.settled-commissions-are-final": {ZH: "已结算佣金不再扣回", EN: "settled commissions are final"},
    "note.referral_refused": {ZH: "邀请码 {code} 未绑定：{refused}", EN: "referral code {code} refused: {refused}"},
    "note.no_template": {ZH: "未发券：品牌没有优惠券模板 {templateId}", EN: "no coupon given: the brand has no coupon template {templateId}"},
    "note.cap_reached": {ZH: "第 {level} 级佣金未计：每位受邀人的佣金已达上限", EN: "no level-{level} commission: the cap per invitee is reached"},
    "note.after_window": {ZH: "退款晚于退款期：佣金不变", EN: "the refund came after the refund window: the commission stands"},
}
