"""`referral`: invitations bound once and safely, rewards for both sides, and commissions in fen on the invitee's
orders, pending through the refund window.

Parameters (presets from DOMAIN.md 4.1 and 4.3, items 25, 26 and 30):
- `bindWithinDays` (7): a code can be entered at registration or up to this many days after it (0: only at
  registration).
- `depth` (1; 1 or 2, never more): how many levels up commissions go. Level 2 pays the inviter's own inviter.
- `levels` ([{percent 10, capFen 10000}, {percent 2, capFen 2000}]): the commission rate of each level, as a
  percentage of the invitee's paid order (net of refunds), and its cap per invitee over all their orders
  (元气森林: 10% capped at 100 yuan: an order of 1,200 yuan pays min(120, 100) = 100 yuan).
- `kolTag` ("kol") and `kolRates` ([{aboveFen 0, percent 5}, {aboveFen 5000000, percent 8}]): an inviter tagged
  KOL earns level-1 commission by the ladder instead, on their invitees' paid sales in the brand-local month,
  this order included (5% base; 8% once the month passes 50,000 yuan).
- `inviteeCoupon` (none): the template of the new member's credit (元气森林: 50 yuan), given at binding.
- `inviterCoupon` (none) and `inviterCouponOn` ("firstOrder"): the inviter's reward (元气森林: 满148减20), given
  when the invitee pays their first order (or at "binding").
- `countLadder` ([]): e.g. [{invites 3, coupon "trial-size"}, {invites 10, coupon "full-size"}]: the inviter gets
  the coupon when their count of bound invitees reaches `invites` (任务宝).
- `refundWindowDays` (7): commissions stay pending this long after the order; then the daily sweep settles them.

Bindings are refused, with a reason in the event's explanation: UNKNOWN_CODE, SELF_REFERRAL (the member's own code,
or the same WeChat identity), LOOP (the inviter was invited by this member, directly or one level up),
ALREADY_BOUND (one inviter per member: a second code changes nothing), ALREADY_REFERRED (this phone number or
WeChat identity was referred before, e.g. under an erased account), WINDOW_CLOSED.

Refunds: inside the window a refund recomputes the order's commission as the rate on what is left of the order
(net of every refund so far), within the cap room the invitee's other orders leave (pending and settled, net of
claw-backs), and claws back the difference (元气森林: 1,200 yuan earns 100, capped; a 600-yuan refund leaves
min(60, 100) = 60, not 50). If it arrives late, after the sweep settled the commission, it claws back from the
settled balance. A refund
dated after the window leaves the commission as it is: settled commissions are final.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

from rules.refunds import owed_after, refunded_before_order
from plugins.coupons.effects import IssueCoupon, template_ids
from rules.effects import AddToTotal, Emit, Note, Once
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo
from plugins.referral.model import (
    BOUND,
    REFUSED_RULE,
    AccrueCommission,
    BindReferral,
    InviterCoupon,
    ClawBackCommission,
    ReferralFacts,
    SettleCommission,
    month_of,
)

NAME = "referral"
VERSION = "1.2.0"
MAX_SETTLEMENTS_PER_SWEEP = 10  # orders settled in one sweep event (one transaction); the rest the next day
FOREVER_DAYS = 36500

_LEVEL = {"type": "object", "additionalProperties": False, "required": ["percent"],
          "properties": {"percent": {"type": "number", "minimum": 0, "maximum": 50},
                         "capFen": {"type": ["integer", "null"], "minimum": 0}}}
_TEMPLATE = {"type": ["string", "null"], "maxLength": 64}
PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "bindWithinDays": {"type": "integer", "minimum": 0, "maximum": 365, "default": 7},
        "depth": {"enum": [1, 2], "default": 1},
        "levels": {"type": "array", "items": _LEVEL, "minItems": 1, "maxItems": 2,
                   "default": [{"percent": 10, "capFen": 10000}, {"percent": 2, "capFen": 2000}]},
        "kolTag": {"type": "string", "default": "kol"},
        "kolRates": {"type": "array", "maxItems": 10, "items": {
            "type": "object", "additionalProperties": False, "required": ["aboveFen", "percent"],
            "properties": {"aboveFen": {"type": "integer", "minimum": 0},
                           "percent": {"type": "number", "minimum": 0, "maximum": 50}}},
            "default": [{"aboveFen": 0, "percent": 5}, {"aboveFen": 5000000, "percent": 8}]},
        "inviteeCoupon": {**_TEMPLATE, "default": None},
        "inviterCoupon": {**_TEMPLATE, "default": None},
        "inviterCouponOn": {"enum": ["firstOrder", "binding"], "default": "firstOrder"},
        "countLadder": {"type": "array", "maxItems": 10, "default": [], "items": {
            "type": "object", "additionalProperties": False, "required": ["invites", "coupon"],
            "properties": {"invites": {"type": "integer", "minimum": 1}, "coupon": {"type": "string"}}}},
        "refundWindowDays": {"type": "integer", "minimum": 0, "maximum": 90, "default": 7},
    },
}


@hookimpl
def siyu_plugin_info():
    # An invitee who erases their account still leaves their inviter's commissions to settle.
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=50, check=_check_params, after_erasure=True,
                      description="Referral bindings, invite rewards, and commissions pending through the refund "
                                  "window.")


def _check_params(params):
    if params["depth"] == 2 and len(params["levels"]) < 2:
        return [("levels", "depth 2 needs a rate for the second level")]
    return []


# ---- binding -------------------------------------------------------------------------------------------------------


@hookimpl
def siyu_member_registered(event, context):
    if event.get("referralCode"):
        yield from _bind(context, event.get("referralCode"))


@hookimpl
def siyu_referral_code_entered(event, context):
    window = context.params["bindWithinDays"]
    if context.now - context.member.registered_at > timedelta(days=window):
        yield _refused("WINDOW_CLOSED", f"codes are accepted up to {window} days after joining",
                       event.get("referralCode"))
        return
    yield from _bind(context, event.get("referralCode"))


def _bind(context, code):
    member = context.member
    facts: ReferralFacts | None = context.extras.get("referral")
    if member.has(BOUND):
        yield _refused("ALREADY_BOUND", "this member already has an inviter", code)
        return
    if facts is None or facts.referrer_id is None:
        yield _refused("UNKNOWN_CODE", "no member of this brand has this code", code)
        return
    if facts.referrer_id == member.member_id or facts.referrer_identities & member.identities:
        yield _refused("SELF_REFERRAL", "members cannot invite themselves", code)
        return
    if member.member_id in (facts.referrer_inviter, facts.referrer_upline):
        yield _refused("LOOP", "the inviter was invited by this member", code)
        return
    if facts.phone_already_referred or facts.identity_already_referred:
        yield _refused("ALREADY_REFERRED", "this phone number or WeChat account was referred before", code)
        return
    inputs = {"code": facts.code, "referrer": facts.referrer_id, "upline": facts.referrer_inviter}
    yield Once(key=BOUND, keep_days=FOREVER_DAYS, rule="referral-bound", inputs=inputs,
               data={"referrer": facts.referrer_id, "upline": facts.referrer_inviter, "code": facts.code,
                     "at": context.now.isoformat()})
    yield BindReferral(referrer_id=facts.referrer_id, upline_id=facts.referrer_inviter, code=facts.code,
                       invites_before=facts.referrer_invites, rule="referral-bound", inputs=inputs)
    yield from _coupon(context, context.params["inviteeCoupon"], None, "new member credit for joining by invitation",
                       "invitee-credit")
    if context.params["inviterCouponOn"] == "binding":
        yield from _coupon(context, context.params["inviterCoupon"], facts.referrer_id,
                           f"invited member {member.member_id}", "inviter-reward")
    invites = facts.referrer_invites + 1
    for rung in context.params["countLadder"]:
        if rung["invites"] == invites:
            yield from _coupon(context, rung["coupon"], facts.referrer_id, f"{invites} members invited",
                               "invite-count-ladder")


def _refused(reason, message, code):
    return Note(message=f"referral refused: {message}", rule=REFUSED_RULE,
                inputs={"refused": reason, "code": code}, sentence="note.referral_refused")


def _coupon(context, template_id, to_member, reason, rule):
    if not template_id:
        return
    inputs = {"templateId": template_id, "toMember": to_member}
    if template_id not in template_ids(context.brand):
        yield Note(message=f"no coupon given: the coupons plugin has no template {template_id}", rule=rule,
                   inputs=inputs, sentence="note.no_template")
        return
    coupon = IssueCoupon if to_member is None else InviterCoupon
    yield coupon(template_id=template_id, to_member=to_member, reason=reason, rule=rule, inputs=inputs)


# ---- commissions ---------------------------------------------------------------------------------------------------


@hookimpl
def siyu_order_paid(event, context):
    member = context.member
    bound = member.marker(BOUND)
    order_id = event.get("orderId")
    key = f"{NAME}:order:{order_id}"
    if bound is None or member.has(key):
        return
    params = context.params
    if params["inviterCouponOn"] == "firstOrder" and not member.has(f"{NAME}:inviter-rewarded"):
        yield Once(key=f"{NAME}:inviter-rewarded", keep_days=FOREVER_DAYS, rule="inviter-reward",
                   inputs={"orderId": order_id})
        yield from _coupon(context, params["inviterCoupon"], bound["referrer"],
                           f"invited member {member.member_id} ordered", "inviter-reward")
    amount = event.get("amountFen")
    net = max(0, amount - refunded_before_order(NAME, member, order_id))
    settles_at = context.now + timedelta(days=params["refundWindowDays"])
    month = month_of(context.brand, context.now)
    standing = context.extras.get("referral")
    earned: dict[int, int] = {}
    terms: dict[str, object] = {}
    for level, (to_member, percent, cap, rule) in enumerate(_levels(context, bound, standing, amount), start=1):
        # Kept with the order: a refund recomputes its commission on the net amount at the same rate and cap.
        terms[f"p{level}"], terms[f"c{level}"] = percent, cap
        due = int(net * Fraction(str(percent)) / 100)
        room = None if cap is None else max(0, cap - _net_so_far(member, level))
        fen = due if room is None else min(due, room)
        inputs = {"orderId": order_id, "orderFen": amount, "netFen": net, "percent": percent, "capFen": cap,
                  "earnedBeforeFen": _net_so_far(member, level), "level": level}
        if fen <= 0:
            yield Note(message=f"no level-{level} commission: the cap per invitee is reached", rule=rule,
                       inputs=inputs, sentence="note.cap_reached")
            continue
        earned[level] = fen
        # Kept as a running total, so the cap of the invitee's next order is read without their other orders.
        yield AddToTotal(total=_earned_total(level), amount=fen, rule=rule, inputs=inputs)
        kol = standing is not None and level == 1
        yield AccrueCommission(to_member=to_member, order_id=order_id, level=level, fen=fen, order_fen=amount,
                               settles_at=settles_at, month=month if kol else None,
                               month_sales_before=standing.month_sales_fen if kol else None,
                               inviter_version=standing.version if kol else None, rule=rule,
                               inputs=inputs)
    if earned:
        yield Once(key=key, keep_days=FOREVER_DAYS, due_at=settles_at, rule="commission-pending",
                   inputs={"orderId": order_id, "settlesAt": settles_at.isoformat()},
                   data={"amountFen": amount, "baseFen": net, "refundedBeforeFen": amount - net,
                         "l1": earned.get(1, 0), "l2": earned.get(2, 0),
                         "inviter": bound["referrer"], "upline": bound.get("upline"),
                         "settlesAt": settles_at.isoformat(), **terms})


def _levels(context, bound, standing, amount):
    params = context.params
    first = params["levels"][0]
    percent, rule = first["percent"], "commission-level-1"
    if standing is not None and params["kolTag"] in standing.tags and params["kolRates"]:
        sales = standing.month_sales_fen + amount
        reached = [r for r in params["kolRates"] if sales > r["aboveFen"]]
        if reached:
            percent = max(reached, key=lambda r: r["aboveFen"])["percent"]
            rule = "kol-commission-by-monthly-sales"
    yield bound["referrer"], percent, first.get("capFen"), rule
    if params["depth"] == 2 and bound.get("upline"):
        second = params["levels"][1]
        yield bound["upline"], second["percent"], second.get("capFen"), "commission-level-2"


def _earned_total(level) -> str:
    return f"{NAME}:commission:l{level}"


def _net_so_far(member, level) -> int:
    """What this invitee's orders have earned at `level`, less what refunds clawed back: the member's running total
    (`AddToTotal` with each commission and each claw-back), not a sum over every order's markers."""
    return member.total(_earned_total(level))


def _clawed(member, order_id, level) -> int:
    return sum(r.get(f"taken{level}", 0) for r in member.markers_under(f"{NAME}:refund:{order_id}#").values())


@hookimpl
def siyu_order_refunded(event, context):
    member = context.member
    if member.marker(BOUND) is None:
        return
    from rules.clock import parse_time

    order_id = event.get("orderId")
    key = f"{NAME}:refund:{order_id}#{event.get('refundId') or event.event_id}"
    if member.has(key):
        return
    fen = event.get("amountFen")
    order = member.marker(f"{NAME}:order:{order_id}")
    if order is None:
        # Before its order (or an order that earned nothing): remembered, so the order earns on what is left.
        yield Once(key=key, keep_days=FOREVER_DAYS, rule="refund-before-order", inputs={"orderId": order_id},
                   data={"fen": fen})
        return
    # The commission was earned on what was left of the order when it arrived (`baseFen`): refunds after that
    # take back their share of it, and refunds that came before the order were already netted out.
    base = order.get("baseFen", order["amountFen"])
    refunded = sum(r.get("fen", 0) for r in member.markers_under(f"{NAME}:refund:{order_id}#").values()) + fen \
        - order.get("refundedBeforeFen", 0)
    inputs = {"orderId": order_id, "refundFen": fen, "refundedFen": refunded, "orderFen": order["amountFen"],
              "baseFen": base, "settlesAt": order["settlesAt"]}
    if context.now >= parse_time(order["settlesAt"]):
        yield Once(key=key, keep_days=FOREVER_DAYS, rule="settled-commissions-are-final", inputs=inputs,
                   data={"fen": fen})
        yield Note(message="the refund came after the refund window: the commission stands",
                   rule="settled-commissions-are-final", inputs=inputs, sentence="note.after_window")
        return
    settled = member.has(f"{NAME}:settled:{order_id}")
    takes = {}
    for level, to_member in ((1, order["inviter"]), (2, order.get("upline"))):
        clawed = _clawed(member, order_id, level)
        take = _recomputed_take(member, order, level, base, refunded, clawed)
        if take > 0:
            takes[level] = take
            yield AddToTotal(total=_earned_total(level), amount=-take, rule="refund-claws-back-commission",
                             inputs={**inputs, "level": level})
            yield ClawBackCommission(to_member=to_member, order_id=order_id, level=level, fen=take,
                                     from_settled=settled, clawed_before=clawed,
                                     rule="refund-claws-back-commission",
                                     inputs={**inputs, "level": level,
                                             "commissionBeforeFen": order[f"l{level}"] - clawed})
    yield Once(key=key, keep_days=FOREVER_DAYS, rule="refund-claws-back-commission", inputs=inputs,
               data={"fen": fen, "taken1": takes.get(1, 0), "taken2": takes.get(2, 0)})


def _recomputed_take(member, order, level, base, refunded, clawed) -> int:
    """What a refund takes back: the order's commission becomes the rate on what is left of it, within the cap
    room its invitee's other orders leave (pending and settled, net of claw-backs), never more than it holds."""
    holds = order[f"l{level}"] - clawed
    percent = order.get(f"p{level}")
    if percent is None:  # an order recorded before rates were kept with it: in proportion, as it was then
        return owed_after(order[f"l{level}"], base, refunded) - clawed
    due = int(max(0, base - refunded) * Fraction(str(percent)) / 100)
    cap = order.get(f"c{level}")
    if cap is not None:
        others = _net_so_far(member, level) - holds
        due = min(due, max(0, cap - others))
    return max(0, holds - max(0, due))


@hookimpl
def siyu_member_due(sweep, context):
    from rules.clock import parse_time

    member = context.member
    due = [(key[len(f"{NAME}:order:"):], order) for key, order in sorted(member.markers_under(f"{NAME}:order:").items())
           if not member.has(f"{NAME}:settled:{key[len(f'{NAME}:order:'):]}")
           and parse_time(order["settlesAt"]) <= context.now]
    if len(due) > MAX_SETTLEMENTS_PER_SWEEP:
        # One event is one transaction: settle the oldest now, and be called back tomorrow for the rest.
        day = context.local_date().isoformat()
        if not member.has(f"{NAME}:settle-more:{day}"):
            yield Once(key=f"{NAME}:settle-more:{day}", keep_days=3, due_at=context.now + timedelta(days=1),
                       rule="settle-the-rest-tomorrow", inputs={"due": len(due)})
        due = due[:MAX_SETTLEMENTS_PER_SWEEP]
    for order_id, order in due:
        inputs = {"orderId": order_id, "settlesAt": order["settlesAt"]}
        yield Once(key=f"{NAME}:settled:{order_id}", keep_days=FOREVER_DAYS, rule="refund-window-over",
                   inputs=inputs)
        for level, to_member in ((1, order["inviter"]), (2, order.get("upline"))):
            fen = order[f"l{level}"] - _clawed(member, order_id, level)
            if fen > 0:
                yield SettleCommission(to_member=to_member, order_id=order_id, level=level, fen=fen,
                                       clawed_before=_clawed(member, order_id, level),
                                       rule="refund-window-over", inputs={**inputs, "level": level})
                yield Emit(detail_type="commission.settled", rule="refund-window-over",
                           inputs={**inputs, "level": level},
                           detail={"memberId": to_member, "inviteeId": member.member_id, "orderId": order_id,
                                   "level": level, "fen": fen})
