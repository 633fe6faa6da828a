"""`tiers`: growth value from spending, upgrades the moment a threshold is crossed, and re-grading when a tier's
validity ends.

The ladder is brand data (`BrandConfig.tiers`, e.g. 百果园 普卡 0 / 银卡 500 / 金卡 2,000 / 钻卡 5,000, each with the
growth deducted when its validity ends without an upgrade: 0 / 300 / 1,000 / 3,000). Growth is kept apart from
spendable points. Parameters:
- `growthPerYuan` (1): growth per yuan paid, rounded down (百果园: 1 yuan = 1 growth; some brands 0.01).
- `validityMonths` (6): how long a tier is held after it is reached, in calendar months of the brand's time zone
  (rules/months.py): reached on 2026-02-01 (brand-local), held through 2026-07-31 and judged at 00:00 brand-local
  on 2026-08-01; reached on 31 August, judged at the start of 28 (or 29) February.
- `refundWindowDays` (120): how long an order is remembered for refunds (as in `points`).
- `policy` ("validity"): "validity" is 百果园's (growth accumulates; at the end of a tier's validity the deduction
  is taken); "rolling12" grades on the growth of the last 12 calendar months only (DOMAIN.md 2.2): an order of
  2026-03-15 (brand-local) counts until the start of 2027-03-15; each order and refund re-grades up or down, and
  the daily sweep re-grades when an order leaves the window, so members who stop buying are downgraded
  automatically. The growth each brand-local day brought (net of its orders' refunds) is kept as a daily total
  (`AddToDailyTotal`, rules/daily_totals.py): an event reads the last 13 months of it, never the other orders. A
  refund of an order that has left the window takes nothing (its growth no longer counts).
- `firstOrderUpgrade` (none): e.g. {"minFen": 100, "tier": "VIP2"}: 喜茶's first order of at least 1 yuan
  lifts a new member to VIP2 whatever their growth.
- `acceleratedUpgrade` (none): e.g. {"monthlySpendFen": 50000, "months": 3} (DOMAIN.md 2.2): a member whose net
  spend reached the bar in each of the last `months` brand-local calendar months, this one included, moves up one
  rung at once, held for a validity period (at its end the usual re-grading on growth applies). Once per streak.

Benefits on the ladder that name coupon templates of the `coupons` plugin are given here: `upgradeGiftCoupon` once
per tier reached (百果园's upgrade gift pack), `birthdayCoupon` once a year, on the member's first order,
check-in or engagement in their birthday month (brand-local), for the tiers that list it (银卡 and up).

When a tier's validity ends (found by the daily sweep), its deduction is taken from growth and the member is
re-graded: 金卡 with 2,500 growth loses 1,000, has 1,500, and becomes 银卡, held for another validity period. A
refund takes growth back in proportion and, if that leaves the member below their tier, re-grades them at once
(an order that bought an upgrade cannot be refunded while keeping it).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from rules.refunds import exact, scaled_down
from rules import months as calendar_months
from rules.clock import parse_time
from rules.context import TIER_JUDGES
from rules.refunds import owed_after, refund_step, refunded_before_order
from plugins.coupons.effects import IssueCoupon, template_ids
from rules.effects import AddGrowth, AddToDailyTotal, AddToTotal, Emit, Once, SetPaidMembership, SetTier
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo

NAME = "tiers"
VERSION = "1.3.0"

PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "growthPerYuan": {"type": "number", "minimum": 0, "maximum": 1000, "default": 1},
        "validityMonths": {"type": "integer", "minimum": 1, "maximum": 120, "default": 6},
        "refundWindowDays": {"type": "integer", "minimum": 1, "maximum": 730, "default": 120},
        "policy": {"enum": ["validity", "rolling12"], "default": "validity"},
        "firstOrderUpgrade": {
            "type": ["object", "null"], "default": None, "additionalProperties": False,
            "required": ["tier"],
            "properties": {"minFen": {"type": "integer", "minimum": 0, "default": 100}, "tier": {"type": "string"}},
        },
        "acceleratedUpgrade": {
            "type": ["object", "null"], "default": None, "additionalProperties": False,
            "required": ["monthlySpendFen"],
            "properties": {"monthlySpendFen": {"type": "integer", "minimum": 1},
                           "months": {"type": "integer", "minimum": 2, "maximum": 3, "default": 3}},
        },
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=20,
                      description="Growth value from spending; upgrades on thresholds; re-grading at validity end.")


@hookimpl
def siyu_order_paid(event, context):
    order_id = event.get("orderId")
    key = f"{NAME}:order:{order_id}"
    member = context.member
    if member.has(key):
        return
    if _validity_ended(context):
        # The validity ended before this order: it is judged first, on the member as they stood at its end (the
        # sweep that would have judged it may not have run yet), and this order counts from what that leaves.
        settled, context = _judge_ended_validity(context)
        yield from settled
        member = context.member
    amount = event.get("amountFen")
    growth = scaled_down(amount, exact(context.params["growthPerYuan"]))
    refunded_fen = refunded_before_order(NAME, member, order_id)
    netted = owed_after(growth, amount, refunded_fen)
    rolling = context.params["policy"] == "rolling12"
    keep = _order_memory_days(context.params)
    yield Once(key=key, rule="growth-once-per-order", inputs={"orderId": order_id}, keep_days=keep,
               data={"amountFen": amount, "growth": growth, "taken": netted, "at": context.now.isoformat()})
    added = growth - netted
    yield from _count_spend(context, amount - refunded_fen, order_id)
    if rolling:
        today = context.local_date()
        if added > 0:
            yield AddToDailyTotal(total=GROWTH_BY_DAY, day=today, amount=added, keep_months=WINDOW_MONTHS,
                                  rule="rolling-12-months", inputs={"orderId": order_id, "growth": added})
        yield from _regrade_rolling(context, extra=(max(added, 0), today), rule="rolling-12-months")
        return
    if added > 0:
        yield AddGrowth(growth=added, rule="growth-per-yuan",
                        inputs={"orderId": order_id, "amountFen": amount,
                                "growthPerYuan": context.params["growthPerYuan"], "refundedFen": refunded_fen})
    total = member.growth + max(added, 0)
    current = context.brand.tier(member.tier_code)
    reached, rule, inputs = context.brand.tier_for_growth(total), "upgrade-on-threshold", {}
    first = context.params["firstOrderUpgrade"]
    if first and not member.has(f"{NAME}:first-order"):
        yield Once(key=f"{NAME}:first-order", rule="first-order-upgrade", inputs={"orderId": order_id},
                   keep_days=36500)
        target = context.brand.tier(first["tier"])
        if amount >= first.get("minFen", 100) and target.threshold > reached.threshold:
            reached, rule = target, "first-order-upgrade"
            inputs = {"orderId": order_id, "amountFen": amount, "minFen": first.get("minFen", 100)}
    if reached.threshold <= current.threshold:
        reached, rule, inputs = _accelerated(context, current, order_id, amount, refunded_fen) or (reached, rule, inputs)
    if reached.threshold > current.threshold:
        yield from _move(context, current, reached, rule, inputs or {"growth": total, "threshold": reached.threshold,
                                                                     "from": current.code})
    yield from _birthday_coupon(context)


ACCELERATION_MEMORY_DAYS = calendar_months.longest_days(3)  # three calendar months at their longest


def _order_memory_days(params) -> int:
    """How long an order (and its refunds) is remembered: the refund window, or longer when the rolling 12 months
    or the accelerated-upgrade months must still see it."""
    keep = params["refundWindowDays"]
    if params["policy"] == "rolling12":
        keep = max(keep, calendar_months.longest_days(WINDOW_MONTHS))
    if params["acceleratedUpgrade"]:
        keep = max(keep, ACCELERATION_MEMORY_DAYS)
    return keep


def _accelerated(context, current, order_id, amount, refunded_fen):
    """The next rung up if the member's net spend reached the bar in each of the last N brand-local months."""
    rule = context.params["acceleratedUpgrade"]
    higher = context.brand.next_tier(current.code)
    if not rule or higher is None:
        return None
    month = context.local_date().replace(day=1)
    if context.member.has(f"{NAME}:accelerated:{month:%Y-%m}"):
        return None
    months = calendar_months.month_labels_back(context.now, rule["months"], context.brand.timezone)
    # Each month's net spend is a running total (`_count_spend`): the member's other orders are not read.
    spend = {label: context.member.total(_spend_total(label)) for label in months}
    spend[f"{month:%Y-%m}"] += max(0, amount - refunded_fen)
    if any(spend.get(label, 0) < rule["monthlySpendFen"] for label in months):
        return None
    return higher, "accelerated-upgrade", {"orderId": order_id, "months": months, "monthlySpendFen":
                                           rule["monthlySpendFen"], "spendFen": [spend.get(m, 0) for m in months]}


def _spend_total(label) -> str:
    return f"{NAME}:spend:{label}"


def _count_spend(context, fen, order_id, at=None):
    """With an accelerated upgrade configured, each brand-local month's net spend is kept as a running total (an
    order adds what is left of it after earlier refunds, a later refund takes its amount off the order's month);
    months the rule can no longer look at are dropped when an order comes."""
    rule = context.params["acceleratedUpgrade"]
    if not rule:
        return
    label = f"{context.local_date(at):%Y-%m}"
    if fen:
        yield AddToTotal(total=_spend_total(label), amount=fen, rule="accelerated-upgrade-monthly-spend",
                         inputs={"orderId": order_id, "month": label, "fen": fen})
    if at is not None:
        return
    kept = set(calendar_months.month_labels_back(context.now, rule["months"], context.brand.timezone))
    for name, value in sorted(context.member.totals.items()):
        if name.startswith(_spend_total("")) and name[len(_spend_total("")):] not in kept and value:
            yield AddToTotal(total=name, amount=-value, rule="accelerated-upgrade-monthly-spend",
                             inputs={"month": name[len(_spend_total("")):], "dropped": True})


@hookimpl
def siyu_member_checked_in(event, context):
    yield from _birthday_coupon(context)


@hookimpl
def siyu_member_engaged(event, context):
    yield from _birthday_coupon(context)


def _birthday_coupon(context):
    """百果园: a birthday coupon for 银卡 and up, once a year, in the member's birthday month."""
    member = context.member
    template_id = context.brand.tier(member.tier_code).benefits.get("birthdayCoupon")
    today = context.local_date()
    if not template_id or member.birthday is None or int(member.birthday[2:4]) != today.month:
        return
    key = f"{NAME}:birthday:{today.year}"
    if member.has(key) or not _coupon_defined(context, template_id):
        return
    # The month only: explanations are kept in event records, which erasure does not reach.
    inputs = {"tier": member.tier_code, "birthdayMonth": today.month, "templateId": template_id}
    yield Once(key=key, keep_days=400, rule="birthday-coupon", inputs=inputs)
    yield IssueCoupon(template_id=template_id, reason=f"birthday {today.year}", rule="birthday-coupon",
                      inputs=inputs)


def _coupon_defined(context, template_id) -> bool:
    return template_id in template_ids(context.brand)


@hookimpl
def siyu_order_refunded(event, context):
    if _validity_ended(context):
        settled, context = _judge_ended_validity(context)
        yield from settled
    member = context.member
    step = refund_step(NAME, "growth", event, member)
    if step is None:
        return
    # As long as the order itself: the rolling window and the accelerated-upgrade months read orders net of refunds.
    keep = _order_memory_days(context.params)
    if step.order is None:
        yield Once(key=step.key, rule="refund-before-order", inputs={"orderId": step.order_id}, keep_days=keep,
                   data={"fen": step.fen, "taken": 0})
        return
    ordered = parse_time(step.order["at"]) if step.order.get("at") else None
    rolling = context.params["policy"] == "rolling12"
    counts = not rolling or (ordered is not None and _in_window(context, context.local_date(ordered)))
    # Under the rolling 12 months an order that has left the window no longer counts: its refund takes nothing.
    take = min(step.take, member.growth) if counts else 0
    inputs = {"orderId": step.order_id, "refundFen": step.fen, "orderFen": step.order["amountFen"],
              "orderGrowth": step.order["growth"]}
    yield Once(key=step.key, rule="refund-takes-growth-back", inputs=inputs, keep_days=keep,
               data={"fen": step.fen, "taken": take})
    if ordered is not None:
        yield from _count_spend(context, -step.fen, step.order_id, at=ordered)
    if rolling:
        if take:
            day = context.local_date(ordered)
            yield AddToDailyTotal(total=GROWTH_BY_DAY, day=day, amount=-take, keep_months=WINDOW_MONTHS,
                                  rule="refund-takes-growth-back", inputs=inputs)
            yield from _regrade_rolling(context, extra=(-take, day), rule="refund-takes-growth-back")
        return
    if not take:
        return
    yield AddGrowth(growth=-take, rule="refund-takes-growth-back", inputs=inputs)
    current = context.brand.tier(member.tier_code)
    regraded = context.brand.tier_for_growth(member.growth - take)
    if regraded.threshold < current.threshold:
        yield from _move(context, current, regraded, "refund-undoes-upgrade",
                         {"growth": member.growth - take, "threshold": current.threshold, "from": current.code})


@hookimpl
def siyu_membership_paid(event, context):
    """Paid membership is a tier variant (DOMAIN.md 2.4): it runs until `validUntil`; a renewal never shortens it."""
    from rules.clock import parse_time

    until = parse_time(event.get("validUntil"))
    current = context.member.paid_until
    if current is not None and current >= until:
        return None
    return [SetPaidMembership(until=until, rule="paid-membership",
                              inputs={"plan": event.get("plan"), "validUntil": until.isoformat()})]


@hookimpl
def siyu_member_due(sweep, context):
    member = context.member
    if member.tier_valid_until is None or member.tier_valid_until > context.now:
        return
    if context.params["policy"] == "rolling12":
        yield from _regrade_rolling(context, extra=None, rule="rolling-12-months-window-moved")
        return
    settled, _ = _judge_ended_validity(context)
    yield from settled


def _tier_in_force(context) -> str:
    """The tier code the member holds at `context.now` once whatever ended by then is judged, as the sweep (or
    this plugin, on the member's next order or refund) will judge it; nothing is decided here."""
    member = context.member
    if member.tier_valid_until is None or member.tier_valid_until > context.now:
        return member.tier_code
    code = member.tier_code
    for effect in siyu_member_due(None, context):
        if isinstance(effect, SetTier):
            code = effect.code
    return code


TIER_JUDGES[NAME] = _tier_in_force


def _validity_ended(context) -> bool:
    member = context.member
    return (context.params["policy"] == "validity" and member.tier_valid_until is not None
            and member.tier_valid_until <= context.now)


MAX_JUDGEMENTS = 240  # validities judged in one event: twenty years of monthly validities


def _judge_ended_validity(context):
    """Every validity that ended by now, each judged at its end on the member as they stood then (whenever the
    sweep or an event gets to it): its deduction taken once, the member re-graded, and the next validity counted
    from that end. Returns the effects and the context with the member as they leave them."""
    member = context.member
    effects = []
    for _ in range(MAX_JUDGEMENTS):
        end = member.tier_valid_until
        if end is None or end > context.now:
            break
        at_end = replace(context, now=end, member=member)
        current = context.brand.tier(member.tier_code)
        deduction = min(current.deduction, member.growth)
        growth = member.growth - deduction
        regraded = min(current, context.brand.tier_for_growth(growth), key=lambda level: level.threshold)
        inputs = {"tier": current.code, "validUntil": end.isoformat(), "deduction": deduction,
                  "growthBefore": member.growth, "growthAfter": growth}
        if deduction:
            effects.append(AddGrowth(growth=-deduction, rule="validity-end-deduction", inputs=inputs))
        if regraded.code != current.code:
            effects += list(_move(at_end, current, regraded, "validity-end-regrade", inputs))
        else:
            effects.append(SetTier(code=current.code, valid_until=_validity(at_end, current),
                                   rule="validity-end-renewal", inputs=inputs))
        following = _validity(at_end, regraded)
        member = replace(member, growth=growth, tier_code=regraded.code, tier_valid_until=following)
        if following is not None and following <= end:
            break  # a validity that does not move forward cannot be judged again
    return effects, replace(context, member=member)


WINDOW_MONTHS = 12
# The growth each brand-local day brought, net of refunds (`AddToDailyTotal`): what the rolling 12 months add up.
GROWTH_BY_DAY = f"{NAME}:growth"


def _in_window(context, day) -> bool:
    """Whether an order of the brand-local `day` still counts now: until the start of the day 12 calendar months on
    (an order of 2026-03-15 counts until the start of 2027-03-15; one of 29 February, of 28 February a year on)."""
    return calendar_months.add_months(day, WINDOW_MONTHS) > context.local_date()


def _regrade_rolling(context, extra, rule):
    """Grade on the growth of the last 12 calendar months (less refunds), up or down, from the daily totals; re-grade
    again when the oldest day that still brings growth leaves the window. `extra`: (growth, day) this plugin adds
    to a day in this same event (its own effects are not in `context.member` yet)."""
    member = context.member
    days = dict(member.daily_totals(GROWTH_BY_DAY))
    if extra is not None and extra[0]:
        days[extra[1]] = days.get(extra[1], 0) + extra[0]
    counted = {day: growth for day, growth in days.items() if growth and _in_window(context, day)}
    total = sum(counted.values())
    oldest = min(counted, default=None)
    inputs = {"growthLast12Months": total, "since": _first_day_in_window(context).isoformat(),
              "from": member.tier_code}
    if total != member.growth:
        yield AddGrowth(growth=total - member.growth, rule=rule, inputs=inputs)
    current = context.brand.tier(member.tier_code)
    target = context.brand.tier_for_growth(total)
    recheck = None
    if oldest is not None and target != context.brand.entry_tier:
        recheck = calendar_months.start_of_day(calendar_months.add_months(oldest, WINDOW_MONTHS),
                                               context.brand.timezone)
    if target.code != current.code:
        yield SetTier(code=target.code, valid_until=recheck, rule=rule, inputs=inputs)
        yield Emit(detail_type="tier.changed", rule=rule, inputs=inputs, detail={"from": current.code, "to": target.code})
        yield from _upgrade_gift(context, current, target)
    elif recheck != member.tier_valid_until:
        yield SetTier(code=current.code, valid_until=recheck, rule=rule, inputs=inputs)


def _first_day_in_window(context):
    """The first brand-local day whose orders still count (for the explanation)."""
    first = calendar_months.add_months(context.local_date(), -WINDOW_MONTHS) + timedelta(days=1)
    while not _in_window(context, first):  # 29 February, which a year on is 28 February
        first += timedelta(days=1)
    return first


def _move(context, current, target, rule, inputs):
    yield SetTier(code=target.code, valid_until=_validity(context, target), rule=rule, inputs=inputs)
    yield Emit(detail_type="tier.changed", rule=rule, inputs=inputs,
               detail={"from": current.code, "to": target.code})
    if rule == "accelerated-upgrade":
        month = context.local_date().replace(day=1)
        yield Once(key=f"{NAME}:accelerated:{month:%Y-%m}", keep_days=ACCELERATION_MEMORY_DAYS, rule=rule,
                   inputs=inputs)
    yield from _upgrade_gift(context, current, target)


def _upgrade_gift(context, current, target):
    """百果园's upgrade gift pack: once per tier a member reaches, never for moving down."""
    template_id = target.benefits.get("upgradeGiftCoupon")
    key = f"{NAME}:gift:{target.code}"
    if target.threshold <= current.threshold or not template_id or context.member.has(key):
        return
    if not _coupon_defined(context, template_id):
        return
    inputs = {"tier": target.code, "templateId": template_id}
    yield Once(key=key, keep_days=3650, rule="upgrade-gift", inputs=inputs)
    yield IssueCoupon(template_id=template_id, reason=f"upgrade gift: {target.name}", rule="upgrade-gift",
                      inputs=inputs)


def _validity(context, level):
    """The entry tier is held for good; every other tier for `validityMonths` calendar months from today
    (brand-local), judged at the start of the day they end on."""
    if level.code == context.brand.entry_tier.code:
        return None
    return calendar_months.months_after(context.now, context.params["validityMonths"], context.brand.timezone)
