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
}
