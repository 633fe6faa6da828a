"""`coupons`: the brand's coupon templates, coupons used by orders, coupons given on sign-up and for late deliveries.

Parameters (presets from DOMAIN.md 5.1 and 5.3, item 33):
- `templates`: each with `id`, `name`, `kind` (`amount_off` 满减: `thresholdFen` and `amountFen`; `percent_off`:
  `discountPercent` paid, e.g. 75 for 75折; `gift`: `gift`), a validity (`validDays` from the claim, or a fixed
  `validFrom`/`validUntil` window), `eligibility` (`tiers`, `paidMember`, `newMemberWithinDays`, `birthdayMonth`,
  `tags`, `firstOrder`, `stages`: any of these lifecycle stages, `segments`: all of these segments, as the
  `segments` family judged the member), `perMemberLimit` (1), `stock` (none: unlimited), `stackableWith` (template ids this one
  may be used together with in one order; none by default), `claimable` (true; false for coupons only rules give).
- `onRegistration` ([]): templates every new member gets (e.g. 满50减10 at entry).
- `lateDeliveryCompensation` (none): the template given once per order on `order.delivered_late`.

Orders name the coupons they used in `couponIds`: each becomes used exactly once, if the member holds it, it is
valid at the order's time, the order reaches its threshold, and it stacks with the coupons accepted before it in
the list. A coupon that fails any of these is not used, and the event's explanation says why.
"""

from __future__ import annotations

from plugins.coupons.model import FIRST_ORDER_MARKER, templates
from plugins.coupons.effects import IssueCoupon, UseCoupon
from plugins.segments.effects import STAGES
from rules.effects import Note, Once
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo

NAME = "coupons"
VERSION = "1.0.0"

_ID = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[A-Za-z0-9_.:\-]+$"}
_TIME = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$"}
TEMPLATE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "kind"],
    "properties": {
        "id": _ID,
        "name": {"type": "string", "minLength": 1, "maxLength": 64},
        "kind": {"enum": ["amount_off", "percent_off", "gift"]},
        "thresholdFen": {"type": "integer", "minimum": 0},
        "amountFen": {"type": "integer", "minimum": 1},
        "discountPercent": {"type": "integer", "minimum": 1, "maximum": 99},
        "gift": {"type": "string", "minLength": 1, "maxLength": 64},
        "validDays": {"type": "integer", "minimum": 1, "maximum": 3660},
        "validFrom": _TIME,
        "validUntil": _TIME,
        "eligibility": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "tiers": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                "paidMember": {"type": "boolean"},
                "newMemberWithinDays": {"type": "integer", "minimum": 0},
                "birthdayMonth": {"type": "boolean"},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 32}, "minItems": 1},
                "firstOrder": {"type": "boolean"},
                # The segments family's lifecycle stages (any of) and segments (all of): plugins/segments/README.
                "stages": {"type": "array", "items": {"enum": list(STAGES)}, "minItems": 1},
                "segments": {"type": "array", "items": {"type": "string", "maxLength": 48}, "minItems": 1},
            },
        },
        "perMemberLimit": {"type": "integer", "minimum": 1, "maximum": 1000},
        "stock": {"type": "integer", "minimum": 0},
        "stackableWith": {"type": "array", "items": _ID},
        "claimable": {"type": "boolean"},
    },
    # Each kind says what it gives; a validity is either days from the claim or a window that ends.
    "allOf": [
        {"if": {"properties": {"kind": {"const": "amount_off"}}}, "then": {"required": ["amountFen"]}},
        {"if": {"properties": {"kind": {"const": "percent_off"}}}, "then": {"required": ["discountPercent"]}},
        {"if": {"properties": {"kind": {"const": "gift"}}}, "then": {"required": ["gift"]}},
        {"oneOf": [{"required": ["validDays"]}, {"required": ["validUntil"]}]},
    ],
}
PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "templates": {"type": "array", "items": TEMPLATE_SCHEMA, "maxItems": 200, "default": []},
        "onRegistration": {"type": "array", "items": _ID, "default": []},
        "lateDeliveryCompensation": {"oneOf": [_ID, {"type": "null"}], "default": None},
    },
}


# 百果园's coupons (DOMAIN.md 2.3, 5.1, item 33), the presets `make dev` loads: the upgrade gift packs and the
# birthday coupon that its ladder names, 满50减10 at the door, 满100减20 for a week after checkout, 10 yuan for
# joining the community group.
BAIGUOYUAN_TEMPLATES = [
    {"id": "bgy-upgrade-yin", "name": "银卡升级礼包", "kind": "gift", "gift": "upgrade-pack-yin", "validDays": 30,
     "claimable": False},
    {"id": "bgy-upgrade-jin", "name": "金卡升级礼包", "kind": "gift", "gift": "upgrade-pack-jin", "validDays": 30,
     "claimable": False},
    {"id": "bgy-upgrade-zuan", "name": "钻卡升级礼包", "kind": "gift", "gift": "upgrade-pack-zuan", "validDays": 30,
     "claimable": False},
    {"id": "bgy-birthday", "name": "生日券", "kind": "percent_off", "discountPercent": 75, "validDays": 30,
     "claimable": False, "perMemberLimit": 100},
    {"id": "bgy-entry-50-10", "name": "满50减10", "kind": "amount_off", "thresholdFen": 5000, "amountFen": 1000,
     "validDays": 30, "claimable": False},
    {"id": "bgy-100-20", "name": "满100减20", "kind": "amount_off", "thresholdFen": 10000, "amountFen": 2000,
     "validDays": 7, "stock": 1000},
    {"id": "bgy-community-10", "name": "进群10元券", "kind": "amount_off", "amountFen": 1000, "validDays": 30,
     "eligibility": {"tags": ["community"]}},
]


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=40, check=_check_params,
                      description="Coupon templates with eligibility and stock; coupons used by orders exactly once.")


def _check_params(params) -> list[tuple[str, str]]:
    """What JSON Schema cannot say: ids unique, references to templates that exist."""
    problems = []
    ids = [t["id"] for t in params.get("templates", ())]
    for index, template_id in enumerate(ids):
        if template_id in ids[:index]:
            problems.append((f"templates[{index}].id", f"template id {template_id!r} is used twice"))
    for index, template_id in enumerate(params.get("onRegistration", ())):
        if template_id not in ids:
            problems.append((f"onRegistration[{index}]", f"no template {template_id!r}"))
    late = params.get("lateDeliveryCompensation")
    if late is not None and late not in ids:
        problems.append(("lateDeliveryCompensation", f"no template {late!r}"))
    return problems


@hookimpl
def siyu_order_paid(event, context):
    member = context.member
    order_id = event.get("orderId")
    if not member.has(FIRST_ORDER_MARKER):
        yield Once(key=FIRST_ORDER_MARKER, keep_days=3650, rule="first-order-recorded", inputs={"orderId": order_id})
    amount = event.get("amountFen")
    defined = templates(context.brand)
    accepted: list = []
    for coupon_id in event.get("couponIds") or ():
        coupon = next((c for c in member.coupons if c.coupon_id == coupon_id), None)
        why_not = _why_not_usable(coupon, accepted, amount, context.now, defined)
        inputs = {"couponId": coupon_id, "orderId": order_id, "amountFen": amount}
        if why_not:
            yield Note(message=f"coupon {coupon_id} not used: {why_not}", rule="coupon-not-usable", inputs=inputs,
                       sentence="note.coupon_not_usable")
            continue
        accepted.append(coupon)
        yield UseCoupon(coupon_id=coupon_id, order_id=order_id, rule="coupon-used-by-order",
                        inputs={**inputs, "templateId": coupon.template_id})


def _why_not_usable(coupon, accepted, amount, now, defined) -> str | None:
    if coupon is None:
        return "the member does not hold it"
    if any(other.coupon_id == coupon.coupon_id for other in accepted):
        return "named twice in this order"
    state = coupon.state(now)
    if state != "available":
        return {"used": f"already used by order {coupon.order_id}", "expired": "expired",
                "not_yet_valid": "not valid yet"}[state]
    if amount < coupon.threshold_fen:
        return f"the order is below its threshold of {coupon.threshold_fen} fen"
    for other in accepted:
        if not _stack(coupon.template_id, other.template_id, defined):
            return f"does not stack with coupon {other.coupon_id}"
    return None


def _stack(a: str, b: str, defined) -> bool:
    first, second = defined.get(a), defined.get(b)
    return bool((first and b in first.stackable_with) or (second and a in second.stackable_with))


@hookimpl
def siyu_member_registered(event, context):
    for template_id in context.params["onRegistration"]:
        key = f"{NAME}:welcome:{template_id}"
        if not context.member.has(key):
            yield Once(key=key, keep_days=3650, rule="welcome-coupon", inputs={"templateId": template_id})
            yield IssueCoupon(template_id=template_id, reason="welcome coupon", rule="welcome-coupon",
                              inputs={"templateId": template_id})


@hookimpl
def siyu_order_delivered_late(event, context):
    template_id = context.params["lateDeliveryCompensation"]
    order_id = event.get("orderId")
    key = f"{NAME}:late:{order_id}"
    if template_id is None or context.member.has(key):
        return
    inputs = {"orderId": order_id, "templateId": template_id, "promisedAt": event.get("promisedAt"),
              "deliveredAt": event.get("deliveredAt")}
    yield Once(key=key, keep_days=400, rule="late-delivery-compensation", inputs=inputs)
    yield IssueCoupon(template_id=template_id, reason=f"compensation for late order {order_id}",
                      rule="late-delivery-compensation", inputs=inputs)
