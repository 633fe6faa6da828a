"""Member day (会员日): on the brand's member day, as many points again as the `points` plugin awarded.

It runs after the built-ins (order 100) and reads what they decided for the same event in `context.decided`; the
day is the brand-local date of the order (`context.local_date()`), not the server's.

Refunds: Siyu's `points` plugin takes back its own points; this plugin's bonus is taken back only because it does
so itself, in proportion to the running total refunded (rounded down, so the member never loses more than the
bonus). A refund that arrives before its order is not its business: the points plugin already nets it out of the
order's points, and the bonus doubles what the points plugin actually awarded.
"""

from rules.sdk import AwardPoints, Note, Once, PluginInfo, TakeBackPoints, hookimpl

NAME = "member_day"
VERSION = "1.0.0"
KEEP_DAYS = 400  # as long as an order can still be refunded

PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "weekday": {"type": "integer", "minimum": 1, "maximum": 7, "default": 2},
        "extraPercent": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100},
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=100,
                      description="Member day: the points plugin's points again, on the brand's member day.")


def _order_key(order_id: str) -> str:
    return f"{NAME}:order:{order_id}"


@hookimpl
def siyu_order_paid(event, context):
    day = context.local_date()
    if day.isoweekday() != context.params["weekday"]:
        return None
    order_id = event.get("orderId")
    key = _order_key(order_id)
    if context.member.has(key):
        return None  # the same order announced twice
    awarded = sum(e.points for e in context.decided_by("points") if isinstance(e, AwardPoints))
    inputs = {"orderId": order_id, "localDate": day.isoformat(), "pointsAwarded": awarded,
              "extraPercent": context.params["extraPercent"]}
    if awarded == 0:
        return [Note(rule="member-day", inputs=inputs, message="the points plugin awarded nothing to double")]
    bonus = awarded * context.params["extraPercent"] // 100
    return [
        Once(key=key, rule="member-day", inputs=inputs, keep_days=KEEP_DAYS,
             data={"bonus": bonus, "amountFen": event.get("amountFen")}),
        AwardPoints(points=bonus, expires_at=context.expiry_for_new_points(), reason=f"member day {day}",
                    rule="member-day", inputs=inputs),
    ]


@hookimpl
def siyu_order_refunded(event, context):
    order_id = event.get("orderId")
    order = context.member.marker(_order_key(order_id))
    if order is None:
        return None  # no bonus was given for this order
    refund_id = event.get("refundId") or event.event_id
    key = f"{NAME}:refund:{order_id}:{refund_id}"
    if context.member.has(key):
        return None  # the same refund announced twice
    earlier = context.member.markers_under(f"{NAME}:refund:{order_id}:").values()
    refunded = min(order["amountFen"], sum(r["refundFen"] for r in earlier) + event.get("amountFen"))
    owed = order["bonus"] * refunded // order["amountFen"] if order["amountFen"] else order["bonus"]
    take = owed - sum(r["points"] for r in earlier)
    inputs = {"orderId": order_id, "refundFen": event.get("amountFen"), "refundedFen": refunded,
              "bonus": order["bonus"]}
    effects = [Once(key=key, rule="member-day-refund", inputs=inputs, keep_days=KEEP_DAYS,
                    data={"refundFen": event.get("amountFen"), "points": max(take, 0)})]
    if take > 0:
        effects.append(TakeBackPoints(points=take, reason=f"refund of order {order_id} (member day bonus)",
                                      rule="member-day-refund", inputs=inputs))
    return effects
