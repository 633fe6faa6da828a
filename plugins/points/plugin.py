"""`points`: members earn points for orders, daily check-ins and engagement.

Parameters (presets from DOMAIN.md section 3.1, item 11):
- `pointsPerYuan` (1): points per yuan of eligible spend. Points are whole: fractions are rounded down.
- `tierMultipliers` ({}): multiplier per tier code, e.g. {"ZUAN": 2}; without one, the tier's own
  `pointsMultiplier` benefit (ladder data) applies.
- `birthdayMultiplier` (2): orders on the member's birthday (brand-local date) earn this many times the points.
- `excludedCategories` ([]): item categories that earn nothing (their `amountFen` is left out).
- `noPointsWithCoupon` (false): orders that used a coupon earn nothing.
- `paidMemberMultiplier` (2): paid members earn this many times the points (元气森林: 1:2).
- `anniversaryMultiplier` (10): orders on the anniversary of joining (brand-local date, from the first year on)
  earn this many times the points (DOMAIN.md item 11: "anniversary 10x"). 1 turns it off.
- `refundWindowDays` (120): how long an order is remembered for refunds; a refund later than that takes nothing
  back (the activity record says so).
- `checkInPoints` (5): once per member per brand-local day.
- `engagement` ({"share": 20 points, 1 a day; "live_interaction": 10, 1 a day; "review": 10, 3 a day}).
"""

from __future__ import annotations


from rules.refunds import exact, owed_after, refund_step, refunded_before_order, scaled_down
from rules.effects import AwardPoints, Once, TakeBackPoints
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo

NAME = "points"
VERSION = "1.0.0"

PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "pointsPerYuan": {"type": "number", "minimum": 0, "maximum": 1000, "default": 1},
        "tierMultipliers": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 100},
                            "default": {}},
        "excludedCategories": {"type": "array", "items": {"type": "string"}, "default": []},
        "noPointsWithCoupon": {"type": "boolean", "default": False},
        "anniversaryMultiplier": {"type": "number", "minimum": 1, "maximum": 100, "default": 10},
        "paidMemberMultiplier": {"type": "number", "minimum": 1, "maximum": 100, "default": 2},
        "birthdayMultiplier": {"type": "number", "minimum": 1, "maximum": 100, "default": 2},
        "refundWindowDays": {"type": "integer", "minimum": 1, "maximum": 730, "default": 120},
        "checkInPoints": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 5},
        "engagement": {
            "type": "object",
            "additionalProperties": {
                "type": "object", "required": ["points"], "additionalProperties": False,
                "properties": {"points": {"type": "integer", "minimum": 0, "maximum": 100000},
                               "perDay": {"type": "integer", "minimum": 1, "maximum": 100, "default": 1}},
            },
            "default": {"share": {"points": 20, "perDay": 5}, "live_interaction": {"points": 10, "perDay": 1},
                        "review": {"points": 10, "perDay": 3}},
        },
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=10,
                      description="Points for orders, daily check-ins and engagement.")


@hookimpl
def siyu_order_paid(event, context):
    order_id = event.get("orderId")
    key = f"{NAME}:order:{order_id}"
    if context.member.has(key):
        return  # the same order announced again under another event id
    params = context.params
    amount = event.get("amountFen")
    if params["noPointsWithCoupon"] and event.get("couponIds"):
        points, inputs, rule = 0, {"orderId": order_id, "couponIds": list(event.get("couponIds"))}, "coupon-orders-earn-nothing"
    else:
        eligible = eligible_fen(amount, event.get("items") or (), params["excludedCategories"])
        # The tier in force at the order's time: a validity that ended before it is judged first (the `tiers`
        # plugin runs after this one and the sweep may not have run yet).
        tier = context.tier_in_force()
        multiplier = exact(params["tierMultipliers"].get(tier.code, tier.benefits.get("pointsMultiplier", 1)))
        today = context.local_date()  # once, for both the anniversary and the birthday
        anniversary = is_anniversary(context, today)
        if anniversary:
            multiplier *= exact(params["anniversaryMultiplier"])
        birthday = is_birthday(context, today)
        if birthday:
            multiplier *= exact(params["birthdayMultiplier"])
        paid = context.member.is_paid_member(context.now)
        if paid:
            multiplier *= exact(params["paidMemberMultiplier"])
        # Whole points only, rounded down: 12.9 yuan at 1 point per yuan earns 12. Rates are read as exact
        # decimals (1.15 is 115/100, not 1.149999...), so rounding never costs a member a point.
        points = scaled_down(eligible, exact(params["pointsPerYuan"]), multiplier)
        # The multiplier says a birthday counted; naming it would keep the member's birthday in records that
        # erasure does not reach (explanations are kept with the event).
        inputs = {"orderId": order_id, "eligibleFen": eligible, "pointsPerYuan": params["pointsPerYuan"],
                  "multiplier": str(multiplier), "tier": tier.code, "anniversary": anniversary,
                  "paidMember": paid}
        rule = "points-per-yuan"
    # Refunds that arrived before the order are netted out now, and count as already taken back.
    refunded_fen = refunded_before_order(NAME, context.member, order_id)
    net_of_refunds = owed_after(points, amount, refunded_fen)
    yield Once(key=key, rule="one-award-per-order", inputs={"orderId": order_id},
               keep_days=params["refundWindowDays"], data={"amountFen": amount, "points": points, "taken": net_of_refunds})
    if points - net_of_refunds > 0:
        if net_of_refunds:
            inputs = {**inputs, "refundedBeforeOrderFen": refunded_fen, "pointsNotAwarded": net_of_refunds}
        yield AwardPoints(points=points - net_of_refunds, expires_at=context.expiry_for_new_points(),
                          reason=f"order {order_id}", rule=rule, inputs=inputs, source=order_source(order_id))


@hookimpl
def siyu_order_refunded(event, context):
    """Refunds take back points in proportion to the amount refunded (rounded down, on the running total), from
    the refunded order's own lot first."""
    step = refund_step(NAME, "points", event, context.member)
    if step is None:
        return
    keep = context.params["refundWindowDays"]
    if step.order is None:
        # The refund overtook its order: remember it, and the order will earn net of it when it arrives.
        yield Once(key=step.key, rule="refund-before-order", inputs={"orderId": step.order_id, "refundFen": step.fen},
                   keep_days=keep, data={"fen": step.fen, "taken": 0})
        return
    inputs = {"orderId": step.order_id, "refundFen": step.fen, "refundedFen": step.refunded_fen,
              "orderFen": step.order["amountFen"], "orderPoints": step.order["points"]}
    yield Once(key=step.key, rule="proportional-refund", inputs=inputs, keep_days=keep,
               data={"fen": step.fen, "taken": step.take})
    if step.take:
        # The order's own lot first: a refund of one order never eats another order's points while its own are
        # there; only what was already spent of them comes from the other lots (earliest expiry first), or is owed.
        yield TakeBackPoints(points=step.take, reason=f"refund of order {step.order_id}", rule="proportional-refund",
                             inputs=inputs, source=order_source(step.order_id))


@hookimpl
def siyu_member_checked_in(event, context):
    day = context.local_date().isoformat()
    key = f"{NAME}:checkin:{day}"
    points = context.params["checkInPoints"]
    if context.member.has(key) or points <= 0:
        return None
    return [Once(key=key, rule="check-in-once-a-day", inputs={"localDate": day}, keep_days=2),
            AwardPoints(points=points, expires_at=context.expiry_for_new_points(), reason="daily check-in",
                        rule="check-in-points", inputs={"localDate": day, "points": points})]


@hookimpl
def siyu_member_engaged(event, context):
    action = event.get("action")
    rule = context.params["engagement"].get(action)
    if rule is None or rule["points"] <= 0:
        return None
    ref = event.get("refId")
    if ref and context.member.has(f"{NAME}:engaged:{action}:{ref}"):
        return None
    day = context.local_date().isoformat()
    slot = next((n for n in range(rule.get("perDay", 1)) if not context.member.has(f"{NAME}:{action}:{day}:{n}")),
                None)
    if slot is None:
        return None  # today's cap for this action is used up
    inputs = {"action": action, "localDate": day, "countToday": slot + 1, "perDay": rule.get("perDay", 1)}
    effects = [Once(key=f"{NAME}:{action}:{day}:{slot}", rule="engagement-daily-cap", inputs=inputs, keep_days=2)]
    if ref:
        effects.append(Once(key=f"{NAME}:engaged:{action}:{ref}", rule="engagement-once-per-ref",
                            inputs={"refId": ref}))
    effects.append(AwardPoints(points=rule["points"], expires_at=context.expiry_for_new_points(),
                               reason=f"engagement: {action}", rule="engagement-points", inputs=inputs))
    return effects


def order_source(order_id) -> str:
    """What an order's points lot is named by, so its refunds find it."""
    return f"{NAME}:order:{order_id}"


def is_anniversary(context, today=None) -> bool:
    """Today (brand-local; `today` when the caller has it already) is the day the member joined, a year or more on."""
    joined, today = context.local_date(context.member.registered_at), today or context.local_date()
    return today.year > joined.year and (today.month, today.day) == (joined.month, joined.day)


def is_birthday(context, today=None) -> bool:
    """Today (brand-local; `today` when the caller has it already) is the member's birthday (a "--MM-DD" month and
    day, as members give it)."""
    birthday = context.member.birthday
    today = today or context.local_date()
    return bool(birthday) and birthday == f"--{today.month:02d}-{today.day:02d}"


def eligible_fen(amount_fen: int, items, excluded_categories) -> int:
    """The order amount less what excluded categories cost (never below zero)."""
    excluded = set(excluded_categories)
    left_out = sum(item.get("amountFen", 0) for item in items if item.get("category") in excluded)
    return max(0, amount_fen - left_out)
