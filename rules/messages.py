"""Every sentence Siyu shows a member or a front end, in Chinese (the default) and English, keyed by stable codes.

The domain raises codes and parameters (`rules/errors.py`, coupon `Reason`s); the API picks the language from the
request's `Accept-Language` (api/request.py) and renders here. English renderings also serve logs and the
staff-facing event problems. Keys:

- business error codes (`INSUFFICIENT_POINTS`, ...), the `code` of typed results;
- `invalid.*`: why an input was refused (`InvalidInput`'s key; its `field` names the input);
- `coupon.*`: why a member may not claim a coupon (the reason's `code`);
- `referral.*`: why a referral code was refused;
- `graphql.*`: GraphQL errors by their `extensions.code` (`{detail}` is graphql-core's own English text);
- `entry.*`, `effect.*`: the one-line summary of a ledger entry's "why" and of what the rules decided.

`tests/unit/test_messages.py` checks that every key has both languages with the same parameters, and that every
error class, reason code and key raised anywhere is in the table.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Any, Mapping

ZH = "zh-CN"
EN = "en"
LANGUAGES = (ZH, EN)
DEFAULT_LANGUAGE = ZH

MESSAGES: dict[str, dict[str, str]] = {
    # ---- business errors (typed results), by code ------------------------------------------------------------------
    "ERROR": {ZH: "请求未能完成", EN: "the request could not be completed"},
    "INVALID_INPUT": {ZH: "输入有误：{field}", EN: "invalid input: {field}"},
    "NOT_FOUND": {ZH: "未找到", EN: "not found"},
    "MEMBER_NOT_FOUND": {ZH: "本品牌没有会员 {member_id}", EN: "no member {member_id} in this brand"},
    "BRAND_NOT_CONFIGURED": {ZH: "品牌 {brand_id} 尚未配置", EN: "brand {brand_id} has no configuration"},
    "ALREADY_REGISTERED": {ZH: "该{field}已被本品牌的其他会员使用",
                           EN: "a member of this brand is already registered with this {field}"},
    "INSUFFICIENT_POINTS": {ZH: "积分不足：需要 {requested} 积分，可用 {available} 积分",
                            EN: "{requested} points requested, {available} available"},
    "POINTS_DEBT_OUTSTANDING": {ZH: "退款订单尚欠 {debt} 积分，新获得的积分会先抵扣欠分",
                                EN: "{debt} points are owed from refunded orders; new earnings repay them first"},
    "IDEMPOTENCY_KEY_REUSED": {ZH: "幂等键 {key} 已用于另一个不同的请求",
                               EN: "idempotency key {key} was already used for a different request"},
    "ENTRY_NOT_FOUND": {ZH: "该会员没有积分记录 {entry_id}", EN: "no ledger entry {entry_id} for this member"},
    "ENTRY_NOT_REVERSIBLE": {ZH: "积分记录 {entry_id} 不能冲正：{reason}",
                             EN: "entry {entry_id} cannot be reversed: {reason}"},
    "BUSY": {ZH: "系统繁忙，本次未做任何更改，请稍后重试",
             EN: "the service is busy right now; nothing was changed, try again in a moment"},
    "TOO_MANY_LOTS": {ZH: "本次操作涉及 {lots} 批积分，单次最多 {limit} 批，请分几次使用",
                      EN: "this would touch {lots} points lots; at most {limit} can change at once, so spend in "
                          "smaller amounts"},
    "POINTS_PAYMENT_TOO_LARGE": {ZH: "本订单积分最多抵扣 {max_fen} 分（{max_points} 积分）",
                                 EN: "points can pay at most {max_fen} fen of this order ({max_points} points)"},
    "RATE_LIMITED": {ZH: "操作太频繁（{action}），请 {retry_after_seconds} 秒后再试",
                     EN: "too many {action} attempts; try again in {retry_after_seconds} seconds"},
    "INVALID_LOGIN_CODE": {ZH: "登录码无效、已使用或已过期，请重新调用 wx.login()",
                           EN: "the login code is invalid, used or expired: call wx.login() again"},
    "BIRTHDAY_CHANGE_TOO_SOON": {ZH: "生日每年只能修改一次，下次可修改日期：{next_change_on}",
                                 EN: "the birthday can be changed once a year; next on {next_change_on}"},

    # ---- why an input was refused (InvalidInput keys) --------------------------------------------------------------
    "invalid.untranslated": {ZH: "输入有误（{field}）：{detail}", EN: "{detail}"},
    "invalid.channel": {ZH: "渠道必须是以下之一：{choices}", EN: "must be one of {choices}"},
    "invalid.identity_required": {ZH: "注册会员需要手机号或微信身份",
                                  EN: "a member registers with a phone number or a WeChat identity"},
    "invalid.referral_code": {ZH: "邀请码由字母和数字组成", EN: "a referral code is letters and digits"},
    "invalid.birthday": {ZH: "生日为月和日，格式为 \"--MM-DD\"（例如 \"--03-01\"）",
                         EN: 'a birthday is a month and day, written "--MM-DD" (e.g. "--03-01")'},
    "invalid.nickname": {ZH: "昵称最多 {max} 个可打印字符", EN: "a nickname is at most {max} printable characters"},
    "invalid.at_least_one": {ZH: "至少为 1", EN: "must be at least 1"},
    "invalid.share_of_order": {ZH: "须大于 0 且不超过 1", EN: "must be more than 0 and at most 1"},
    "invalid.tiers_empty": {ZH: "品牌至少需要一个等级", EN: "a brand needs at least one tier"},
    "invalid.entry_tier_threshold": {ZH: "入门等级的成长值须从 0 开始", EN: "the entry tier starts at 0 growth"},
    "invalid.tier_codes_unique": {ZH: "等级代码不能重复", EN: "tier codes must be unique"},
    "invalid.thresholds_rise": {ZH: "等级门槛必须逐级严格升高", EN: "thresholds must rise strictly up the ladder"},
    "invalid.not_negative": {ZH: "不能为负数", EN: "must not be negative"},
    "invalid.plugin_unavailable": {ZH: "插件 {plugin} 不可用：{detail}", EN: "{detail}"},
    "invalid.plugin_params": {ZH: "插件参数无效：{detail}", EN: "{detail}"},
    "invalid.positive_points": {ZH: "积分必须是正整数", EN: "must be a positive whole number of points"},
    "invalid.expiry_after_earning": {ZH: "积分的过期时间必须晚于获得时间",
                                     EN: "points must expire after they are earned"},
    "invalid.adjustment_reason": {ZH: "人工调整积分需要填写原因", EN: "a staff adjustment needs a reason"},
    "invalid.nonzero_points": {ZH: "积分必须是非零整数", EN: "must be a non-zero whole number of points"},
    "invalid.brand_name": {ZH: "品牌名称为 1-64 个字符", EN: "a brand name is 1-64 characters"},
    "invalid.timezone": {ZH: "{timezone} 不是 IANA 时区", EN: "{timezone} is not an IANA time zone"},
    "invalid.identifier": {ZH: "{name} 须为 1-{max} 个不含空格的可打印字符",
                           EN: "{name} must be 1-{max} printable characters without spaces"},
    "invalid.phone": {ZH: "请输入中国大陆手机号：以 1 开头的 11 位数字",
                      EN: "expected a mainland China mobile number, 11 digits starting with 1"},
    "invalid.reason_length": {ZH: "原因最多 {max} 个字符", EN: "a reason is at most {max} characters"},
    "invalid.idempotency_key": {ZH: "幂等键为 1-{max} 个可打印字符",
                                EN: "an idempotency key is 1-{max} printable characters"},
    "invalid.minimum_points": {ZH: "至少 {minimum} 积分", EN: "at least {minimum} points"},
    "invalid.points_per_yuan": {ZH: "{per_yuan} 积分抵 1 元：积分须能折算为整数分",
                                EN: "{per_yuan} points make 1 yuan: use a number that is a whole number of fen"},
    "invalid.order_amount": {ZH: "订单金额须为正整数（单位：分）",
                             EN: "the order amount is a positive whole number of fen"},
    "invalid.purpose": {ZH: "用途必须是以下之一：{choices}", EN: "one of {choices}"},
    "invalid.granted": {ZH: "true 表示同意，false 表示撤回", EN: "true to grant, false to withdraw"},
    "invalid.policy_version": {ZH: "所展示隐私政策的版本号，1-{max} 个可打印字符",
                               EN: "the version of the privacy policy shown, 1-{max} printable characters"},
    "invalid.cursor": {ZH: "不是本接口返回的游标", EN: "not a cursor returned by this API"},
    "invalid.phone_code": {ZH: "手机号授权码无效、已使用或已过期，请重新授权",
                           EN: "the phone number code is invalid, used or expired: ask the member again"},
    "invalid.not_phone_code": {ZH: "这不是 getPhoneNumber 返回的手机号授权码",
                               EN: "not a phone number code from getPhoneNumber"},
    "invalid.brand_id": {ZH: "不是品牌编号", EN: "not a brand id"},
    "invalid.tags": {ZH: "最多 50 个标签，每个最多 32 个字符", EN: "at most 50 tags of at most 32 characters"},
    "invalid.json_object": {ZH: "须为 JSON 对象", EN: "must be a JSON object"},
    "invalid.page_size": {ZH: "first 须在 1 到 {max} 之间", EN: "first must be between 1 and {max}"},
    "invalid.days": {ZH: "days 须在 0 到 {max} 之间", EN: "days must be between 0 and {max}"},
    "invalid.event_object": {ZH: "event 须为 JSON 对象：一个 EventBridge 事件",
                             EN: "event must be a JSON object: an EventBridge event"},
    # the staff console: search, import, resend, dry runs of a change
    "invalid.import_too_large": {ZH: "文件过大：请用命令 `siyu import members` 导入",
                                 EN: "a file this large is imported with `siyu import members`"},
    "invalid.benefits_object": {ZH: "权益须为 JSON 对象", EN: "benefits are a JSON object"},
    "invalid.params_object": {ZH: "参数须为 JSON 对象", EN: "parameters are a JSON object"},
    "invalid.find_one_of": {ZH: "手机号、邀请码、会员编号只能给一个", EN: "give one of phone, referralCode or id"},
    "invalid.full_phone": {ZH: "请输入完整的 11 位大陆手机号", EN: "expected a full mainland mobile number, 11 digits"},
    "invalid.resend_incomplete": {ZH: "此事件保存的副本不完整，请从来源系统重新发送",
                                  EN: "the kept copy of this event is incomplete; send it again from its source"},
    "invalid.resend_other_brand": {ZH: "这不是本品牌的事件", EN: "not an event of this brand"},
    "invalid.resend_not_failed": {ZH: "只有处理失败的事件可以重发；被拒绝的事件须在来源系统更正",
                                  EN: "only a failed event can be resent; a rejected one must be corrected at its source"},
    "invalid.between": {ZH: "须在 {low} 到 {high} 之间", EN: "between {low} and {high}"},
    "invalid.resend_unknown": {ZH: "本品牌没有这个编号的失败事件", EN: "no failed event of this brand has this id"},

    # ---- why a ledger entry cannot be reversed (EntryNotReversible's reason) ---------------------------------------
    "reversal.FINAL": {ZH: "{kind} 类记录不可冲正", EN: "{kind} entries are final"},
    "reversal.SPENT": {ZH: "该记录的积分已被使用或已过期", EN: "its points were already spent or expired"},
    "reversal.ALREADY_REVERSED": {ZH: "该记录已被冲正", EN: "it was already reversed"},

    # ---- names of fields inside sentences ---------------------------------------------------------------------------
    "field.phone": {ZH: "手机号", EN: "phone"},
    "field.openid": {ZH: "微信账号", EN: "openid"},
    "field.unionid": {ZH: "微信开放平台账号", EN: "unionid"},

    # ---- why a coupon cannot be claimed (coupon Reason codes) ------------------------------------------------------

    # ---- why a referral code was refused ---------------------------------------------------------------------------

    # ---- GraphQL errors, by extensions.code ------------------------------------------------------------------------
    "graphql.UNAUTHENTICATED": {ZH: "请先登录：请发送有效的 Bearer 令牌",
                                EN: "authentication required: send a valid bearer token"},
    "graphql.INVALID_TOKEN": {ZH: "令牌无效或已过期：请重新登录", EN: "invalid token: send a valid bearer token"},
    "graphql.FORBIDDEN": {ZH: "此令牌无权执行该操作", EN: "{detail}"},
    "graphql.BAD_USER_INPUT": {ZH: "请求有误：{detail}", EN: "{detail}"},
    "graphql.LIMIT_EXCEEDED": {ZH: "请求超出限制：{detail}", EN: "{detail}"},
    "graphql.NOT_FOUND": {ZH: "该会员已不存在", EN: "this member no longer exists"},
    "graphql.INTERNAL": {ZH: "服务内部错误，已记录", EN: "Internal error"},
    "graphql.PROCESSING_FAILED": {ZH: "请求未能处理，已记录并通知品牌工作人员",
                                  EN: "the request could not be processed; it was recorded for the brand's staff"},
    "graphql.OTHER_BRAND": {ZH: "工作人员只能模拟本品牌的事件", EN: "staff can simulate only their own brand's events"},

    # ---- requests that are not GraphQL requests at all (api/http_errors.py) ------------------------------------------
    "http.TOO_DEEP": {ZH: "请求体嵌套超过 {depth} 层", EN: "The request body is nested more than {depth} levels deep"},
    "http.NOT_JSON": {ZH: "请求体不是有效的 JSON", EN: "Unable to parse request body as JSON"},
    "http.NOT_OBJECT": {ZH: "请求体须为 JSON 对象：{{\"query\": \"...\", \"variables\": {{...}}}}",
                        EN: 'The request body must be a JSON object: {{"query": "...", "variables": {{...}}}}'},
    "http.404": {ZH: "未找到该地址", EN: "Not Found"},
    "http.405": {ZH: "不支持该请求方法", EN: "Method Not Allowed"},

    # ---- a ledger entry's "why", in one line -----------------------------------------------------------------------
    "entry.rule": {ZH: "规则「{rule}」（{plugin}）：{points} 积分", EN: "rule {rule} ({plugin}): {points} points"},
    "entry.EARN": {ZH: "获得 {points} 积分", EN: "earned {points} points"},
    "entry.REDEEM": {ZH: "使用 {points} 积分", EN: "spent {points} points"},
    "entry.ADJUST": {ZH: "客服调整 {points} 积分：{reason}", EN: "staff adjustment of {points} points: {reason}"},
    "entry.REVERSE": {ZH: "撤销一笔记录，{points} 积分", EN: "reversal of an entry, {points} points"},
    "entry.EXPIRE": {ZH: "{points} 积分已过期", EN: "{points} points expired"},
    "entry.TAKE_BACK": {ZH: "退款收回 {points} 积分", EN: "{points} points taken back for a refund"},
    "entry.IMPORT": {ZH: "从原会员系统导入 {points} 积分", EN: "{points} points brought over from the previous loyalty system"},
    "entry.REPAY": {ZH: "新获得的积分抵扣欠分 {points} 积分", EN: "{points} newly earned points repaid a debt"},

    # ---- what the rules decided for an event (Effect.summary), by effect kind ---------------------------------------
    "effect.AWARD_POINTS": {ZH: "获得 {points} 积分（规则 {rule}）", EN: "earned {points} points (rule {rule})"},
    "effect.TAKE_BACK_POINTS": {ZH: "收回 {points} 积分（规则 {rule}）", EN: "took back {points} points (rule {rule})"},
    "effect.EXPIRE_POINTS": {ZH: "过期积分已清理（规则 {rule}）", EN: "expired points written off (rule {rule})"},
    "effect.ADD_GROWTH": {ZH: "成长值 +{growth}（规则 {rule}）", EN: "growth +{growth} (rule {rule})"},
    "effect.SET_TIER": {ZH: "会员等级变为 {tier}（规则 {rule}）", EN: "tier set to {tier} (rule {rule})"},
    "effect.SET_PAID_MEMBERSHIP": {ZH: "付费会员有效期已更新（规则 {rule}）",
                                   EN: "paid membership updated (rule {rule})"},
    "effect.ONCE": {ZH: "已记录，不会重复（规则 {rule}）", EN: "recorded so it happens once (rule {rule})"},
    "effect.EMIT": {ZH: "已发出事件 {detail_type}（规则 {rule}）", EN: "sent {detail_type} (rule {rule})"},
    "effect.BRAND_EMIT": {ZH: "已通知品牌 {detail_type}（规则 {rule}）", EN: "told the brand {detail_type} (rule {rule})"},
    "effect.ISSUE_COUPON": {ZH: "发放优惠券 {template}（规则 {rule}）", EN: "issued coupon {template} (rule {rule})"},
    "effect.USE_COUPON": {ZH: "使用了优惠券（规则 {rule}）", EN: "used a coupon (rule {rule})"},
    "effect.NOTE": {ZH: "规则 {rule} 的说明：{message}", EN: "note from rule {rule}: {message}"},
    # A rule several families share by name.
    "rule.refund-before-order": {ZH: "先退款后到单", EN: "a refund that arrived before its order"},
    "effect.OTHER": {ZH: "规则 {rule} 作出了决定", EN: "rule {rule} decided"},
}


@dataclass(frozen=True)
class Sentence:
    """A message not raised as an error (a refusal reason, a summary): a key and its parameters."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str) -> str:
        return render(self.key, language, self.params)


class _Lenient(dict):
    """A missing parameter shows as its name rather than failing the answer."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def parameters(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def catalogue() -> dict[str, dict[str, str]]:
    """Every sentence: the core's and those the rule families bring (`Family.messages`)."""
    from rules.family import families

    return {**MESSAGES, **families().messages}


def render(key: str, language: str = DEFAULT_LANGUAGE, params: Mapping[str, Any] | None = None) -> str:
    """The sentence for `key` in `language` (falling back to Chinese, then to the key itself)."""
    entry = MESSAGES.get(key)
    if entry is None:
        from rules.family import families

        entry = families().messages.get(key)
    if entry is None:
        return key
    template = entry.get(language) or entry[DEFAULT_LANGUAGE]
    return template.format_map(_Lenient({k: _shown(v, language) for k, v in (params or {}).items()}))


def known(key: str) -> bool:
    """Whether the catalogue (the core's or a family's) has a sentence for `key`."""
    if key in MESSAGES:
        return True
    from rules.family import families

    return key in families().messages  # read where it is: no merged catalogue built per sentence


def _shown(value: Any, language: str) -> Any:
    if isinstance(value, Sentence):  # a sentence inside a sentence (a rule's name, a note) in the same language
        return value.render(language)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value


def language_of(accept_language: str | None) -> str:
    """The language of an `Accept-Language` header: the first supported tag by q-value; Chinese otherwise."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((accept_language or "")[:512].split(",")):
        tag, _, rest = part.strip().partition(";")
        q = 1.0
        for option in rest.split(";"):
            name, _, value = option.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        tag = tag.strip().lower()
        language = ZH if tag.startswith("zh") else EN if tag.startswith("en") else None
        if language is None or q <= 0:
            continue
        candidate = (-q, index, language)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LANGUAGE
