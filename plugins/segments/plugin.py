"""`segments`: lifecycle stages, RFM value layers and groups, personas, and the journeys they start.

Parameters (JSON Schema below; presets from DOMAIN.md 1.2-1.4, each section merged over its presets):
- `lifecycle`: `newDays` (30), `sleepingDays` (30), `dormantDays` (180), `lostDays` (365);
- `rfm`: `recentDays` (30), `frequentPerMonth` (3), `rarePerQuarter` (1), `aovMediumFen` (10,000),
  `aovHighFen` (30,000), `highValueTopPercent` (20: high value is the top 20% of the brand's buyers by 12-month net
  spend, the line drawn daily from the brand's spend distribution, see `siyu_value_line_due`), `highValueNetFen`
  (500,000: the line until the first daily computation), `mediumValueNetFen` (100,000), `socialReferrals` (3
  referred members in a year: high value);
- `valueLine`: written by the daily line sweep, never by staff (`{fen, buyers, high, topPercent, computedAt}`);
- `personas`: `highNetWorthFen` (5,000,000), `highFrequencyPerMonth` (4), `growthPercent` (30), `dormantDays` (180);
- `profilingNeedsConsent` (true): value layers, RFM groups and personas only for members whose
  `behaviour_analytics` consent is in force; lifecycle stages for every member;
- `membersSeeSegments` (false): whether `me { lifecycle segments }` shows members their own;
- `journeys`: each `{id, segment, couponTemplateId?, notify?, cooldownDays (30)}`: when a member enters `segment`,
  give the coupon and/or request the notification `notify` (consent-gated), once per entry, and not again within
  the cool-down.

Changes on events (an order makes a member ACTIVE in the same event; a refund is netted at once) and on time: each
judgement schedules the sweep's call back (`Once(due_at=...)`) at the first instant it would differ.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Iterable

from plugins.coupons.effects import IssueCoupon, template_ids
from plugins.segments.effects import PLUGIN, STAGE_PREFIX, OrderFact, SegmentState, state_of
from plugins.segments.model import (
    ALL_CODES,
    HISTORY,
    LINE,
    MAX_ORDERS,
    PRESETS,
    SetValueLine,
    UpdateSegments,
    candidates,
    classify,
    line_of,
    next_change,
    settings,
    value_line,
    with_order,
    with_refund,
)
from rules.effects import BrandEmit, Emit, Note, Once
from rules.hookspecs import hookimpl
from rules.ids import time_key
from rules.plugin_info import PluginInfo

NAME = PLUGIN
VERSION = "1.0.0"
ANALYTICS = "behaviour_analytics"
JOURNEY_RULE = "segment-journey"


def _section(preset: dict[str, int]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "properties": {key: {"type": "integer", "minimum": 1 if key.endswith("Days") else 0}
                           for key in preset}}


PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "lifecycle": {**_section(PRESETS["lifecycle"]), "default": {}},
        "rfm": {**_section(PRESETS["rfm"]), "default": {}},
        "personas": {**_section(PRESETS["personas"]), "default": {}},
        "profilingNeedsConsent": {"type": "boolean", "default": True},
        "membersSeeSegments": {"type": "boolean", "default": False},
        "valueLine": {"type": "object", "additionalProperties": False, "properties": {
            "fen": {"type": ["integer", "null"], "minimum": 0}, "buyers": {"type": "integer", "minimum": 0},
            "high": {"type": "integer", "minimum": 0}, "topPercent": {"type": "integer"},
            "computedAt": {"type": "string"}}},
        "journeys": {"type": "array", "maxItems": 50, "default": [], "items": {
            "type": "object", "additionalProperties": False, "required": ["id", "segment"],
            "properties": {
                "id": {"type": "string", "pattern": r"^[A-Za-z0-9_\-]{1,32}$"},
                "segment": {"enum": list(ALL_CODES)},
                "couponTemplateId": {"type": "string", "minLength": 1, "maxLength": 64},
                "notify": {"type": "string", "pattern": r"^[a-z0-9_.\-]{1,48}$"},
                "cooldownDays": {"type": "integer", "minimum": 1, "maximum": 3650, "default": 30},
            },
        }},
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=50, check=_check_params,
                      description="Lifecycle stages, RFM value layers and personas as segments; journeys on entry.")


def _check_params(params) -> list[tuple[str, str]]:
    problems = []
    life = settings(params)["lifecycle"]
    if not life["sleepingDays"] < life["dormantDays"] < life["lostDays"]:
        problems.append(("lifecycle", "sleepingDays < dormantDays < lostDays"))
    if not 1 <= settings(params)["rfm"]["highValueTopPercent"] <= 100:
        problems.append(("rfm.highValueTopPercent", "between 1 and 100"))
    ids = [j["id"] for j in params.get("journeys", ())]
    for index, journey in enumerate(params.get("journeys", ())):
        if journey["id"] in ids[:index]:
            problems.append((f"journeys[{index}].id", f"journey id {journey['id']!r} is used twice"))
        if "couponTemplateId" not in journey and "notify" not in journey:
            problems.append((f"journeys[{index}]", "a journey gives a coupon, requests a notification, or both"))
    return problems


# ---- hooks ---------------------------------------------------------------------------------------------------------


@hookimpl
def siyu_member_registered(event, context):
    return _judge(context, state_of(context.member), "member-registered")


@hookimpl
def siyu_order_paid(event, context):
    held = state_of(context.member)
    order_id, fen = event.get("orderId"), event.get("amountFen")
    orders = held.orders if held else ()
    if any(o.order_id == order_id for o in orders):
        return [Note(message=f"order {order_id} was counted before", rule="order-counted-once",
                     inputs={"orderId": order_id}, sentence="note.segments_order_counted")]
    base = held or _blank(context)
    first = min(filter(None, (base.first_order_at, context.now))) if fen > 0 else base.first_order_at
    state = replace(base, orders=with_order(orders, OrderFact(order_id, context.now, fen), context.now),
                    first_order_at=first)
    return _judge(context, held, "order-makes-active", state,
                  order={"id": order_id, "at": context.now, "fen": fen})


@hookimpl
def siyu_order_refunded(event, context):
    held = state_of(context.member)
    order_id = event.get("orderId")
    refund_id = event.get("refundId") or event.event_id
    order = next((o for o in (held.orders if held else ()) if o.order_id == order_id), None)
    if order is None:
        return [Note(message=f"order {order_id} is not among the orders segmentation keeps", rule="refund-netted",
                     inputs={"orderId": order_id}, sentence="note.segments_order_unknown")]
    if refund_id in order.refund_ids:
        return [Note(message=f"refund {refund_id} was netted before", rule="refund-netted",
                     inputs={"refundId": refund_id}, sentence="note.segments_refund_netted")]
    state = replace(held, orders=with_refund(held.orders, order_id, refund_id, event.get("amountFen")))
    return _judge(context, held, "refund-netted", state,
                  refund={"orderId": order_id, "refundId": refund_id, "fen": event.get("amountFen")})


@hookimpl
def siyu_member_checked_in(event, context):
    return _overdue(context, "event-rejudges")


@hookimpl
def siyu_member_engaged(event, context):
    return _overdue(context, "event-rejudges")


def _overdue(context, rule: str):
    """Any event of the member brings a change that fell due since the last sweep at once (no extra read: the
    state came with the member)."""
    held = state_of(context.member)
    if held is not None and (held.next_due is None or held.next_due > context.now) and not _line_moved(context, held):
        return None
    return _judge(context, held, rule)


def _line_moved(context, held: SegmentState) -> bool:
    """Whether the brand's high-value line was drawn again since the member was last judged (they are re-layered
    at their next event or due date, not all at once when it moves)."""
    line = (context.params.get("valueLine") or {}).get("computedAt")
    return bool(line and held.computed_at and datetime.fromisoformat(line) > held.computed_at)


@hookimpl
def siyu_value_line_due(sweep, context):
    """The brand's high-value line for the day: the lowest spend bucket edge with at most `highValueTopPercent`% of
    the brand's buyers at or above it. Members are compared against it at their next event or due date."""
    read = context.extras.get(LINE)
    if read is None:
        return None
    percent = settings(context.params)["rfm"]["highValueTopPercent"]
    fen, buyers, high = value_line(read.counts, percent)
    inputs = {"buyers": buyers, "highValueTopPercent": percent, "buckets": len(read.counts)}
    return [SetValueLine(fen=fen, buyers=buyers, high=high, top_percent=percent, rule="value-line", inputs=inputs)]


@hookimpl
def siyu_segments_backfill(sweep, context):
    """An existing member when the brand turned segments on: their history's orders merged with what the family
    kept since (each order once), then judged at the job's time. A member already right writes nothing."""
    history = context.extras.get(HISTORY)
    if history is None:
        return None
    orders, first, last = history
    held = state_of(context.member)
    base = held or _blank(context)
    known = {o.order_id for o in base.orders}
    merged = tuple(sorted(base.orders + tuple(o for o in orders if o.order_id not in known), key=lambda o: o.at))
    firsts = [t for t in (base.first_order_at, first) if t is not None]
    lasts = [t for t in (base.last_order_at, last) if t is not None]
    state = replace(base, orders=merged[-MAX_ORDERS:], first_order_at=min(firsts, default=None),
                    last_order_at=max(lasts, default=None))
    return _judge(context, held, "backfill", state, orders=tuple(
        {"id": o.order_id, "at": o.at, "fen": o.fen, "refunded": o.refunded_fen, "refunds": list(o.refund_ids)}
        for o in state.orders))


@hookimpl
def siyu_member_due(sweep, context):
    held = state_of(context.member)
    if held is None or held.next_due is None or held.next_due > context.now:
        return None  # another plugin's due work, or a call back that a later event moved on
    return _judge(context, held, "time-passes")


# ---- the judgement -------------------------------------------------------------------------------------------------


def _blank(context) -> SegmentState:
    return SegmentState(stage="PROSPECT", stage_since=context.member.registered_at)


def _judge(context, held: SegmentState | None, rule: str, state: SegmentState | None = None, *,
           order: dict | None = None, refund: dict | None = None,
           orders: tuple[dict, ...] | None = None) -> Iterable[Any]:
    """Judge the member now, write the state if anything moved, announce what changed, start journeys, and ask
    the sweep to come back when the judgement would next change."""
    member, now = context.member, context.now
    cfg = settings(context.params)
    state = state or held or _blank(context)
    profiling = member.consented(ANALYTICS) or not context.params.get("profilingNeedsConsent", True)
    referrals = tuple(r.bound_at for r in member.holdings.get("referrals", ()) if hasattr(r, "bound_at"))
    net = [o for o in state.orders if o.net_fen > 0]
    last = max((o.at for o in net), default=state.last_order_at if not state.orders else None)

    high_line = line_of(context.params)

    def judge(at: datetime):
        return classify(cfg, state.orders, at, registered_at=member.registered_at,
                        first_order_at=state.first_order_at, last_order_at=last, referrals=referrals,
                        profiling=profiling, high_line=high_line)

    now_judged = judge(now)
    due = next_change(judge, now_judged, candidates(cfg, state.orders, last, referrals, state.first_order_at, now))
    before = dict(held.segments) if held else {}
    codes = now_judged.segments
    entered = {code: (now_judged.stage_since if code.startswith(STAGE_PREFIX) else now)
               for code in sorted(codes - set(before))}
    left = tuple(sorted(set(before) - codes))
    stage_since = (held.stage_since if held and held.stage == now_judged.stage else now_judged.stage_since)
    new = replace(state, stage=now_judged.stage, stage_since=stage_since,
                  segments={**{c: s for c, s in before.items() if c in codes}, **entered},
                  last_order_at=last, next_due=due, computed_at=now, spend_bucket=now_judged.bucket)
    inputs = dict(now_judged.inputs)
    changed = held is None or entered or left or new.stage != held.stage
    if not changed and (new.orders, new.next_due, new.last_order_at, new.spend_bucket) == (
            held.orders, held.next_due, held.last_order_at, held.spend_bucket):
        return []
    out: list[Any] = [UpdateSegments(stage=new.stage, stage_since=new.stage_since, segments=new.segments,
                                     entered=entered, left=left, next_due=new.next_due,
                                     first_order_at=new.first_order_at, last_order_at=new.last_order_at,
                                     order=order, refund=refund, spend_bucket=new.spend_bucket, orders=orders,
                                     rule=rule, inputs=inputs)]
    if due is not None and (held is None or due != held.next_due):
        key = f"{NAME}:due:{time_key(due)}"
        if not member.has(key):
            out.append(Once(key=key, due_at=due, keep_days=(due - now).days + 2, rule=rule,
                            inputs={"nextChangeAt": due.isoformat()}))
    # Announced for the brand's systems (BrandEmit: kept out of the member's own activity), naming the member.
    who = {"memberId": member.member_id}
    if held is not None and new.stage != held.stage:
        out.append(BrandEmit(detail_type="lifecycle.changed", rule=rule, inputs=inputs,
                             detail={**who, "from": held.stage, "to": new.stage, "since": stage_since.isoformat()}))
    for code in left:
        out.append(BrandEmit(detail_type="segment.left", rule=rule, inputs=inputs, detail={**who, "segment": code}))
    for code, since in entered.items():
        out.append(BrandEmit(detail_type="segment.entered", rule=rule, inputs=inputs,
                             detail={**who, "segment": code, "since": since.isoformat()}))
    out += _journeys(context, entered, held)
    return out


def _journeys(context, entered: dict[str, datetime], held: SegmentState | None) -> Iterable[Any]:
    """Each journey whose segment the member entered now: its coupon and/or notification, once per entry, not
    again within its cool-down; a `Note` says why one did not fire."""
    member, now = context.member, context.now
    templates = template_ids(context.brand)
    for journey in context.params.get("journeys", ()):
        jid, segment = journey["id"], journey["segment"]
        inputs = {"journey": jid, "segment": segment}
        if segment not in entered:
            continue
        key = f"{NAME}:journey:{jid}:{time_key(entered[segment])}"
        if member.has(key):
            yield Note(message=f"journey {jid} already ran for this entry into {segment}", rule=JOURNEY_RULE,
                       inputs=inputs, sentence="note.journey_already_ran")
            continue
        cooldown = timedelta(days=journey.get("cooldownDays", 30))
        recent = [data.get("at") for data in member.markers_under(f"{NAME}:journey:{jid}:").values()
                  if data.get("at") and now - datetime.fromisoformat(data["at"]) < cooldown]
        if recent:
            yield Note(message=f"journey {jid} did not run: it ran at {max(recent)}, within its "
                               f"{cooldown.days}-day cool-down", rule=JOURNEY_RULE,
                       inputs={**inputs, "lastRunAt": max(recent), "cooldownDays": cooldown.days},
                       sentence="note.journey_cooldown")
            continue
        template = journey.get("couponTemplateId")
        if template is not None and template not in templates:
            yield Note(message=f"journey {jid} did not run: coupon template {template} is not configured",
                       rule=JOURNEY_RULE, inputs={**inputs, "couponTemplateId": template},
                       sentence="note.journey_no_template")
            continue
        yield Once(key=key, keep_days=max(cooldown.days, 1), data={"at": now.isoformat()}, rule=JOURNEY_RULE,
                   inputs=inputs)
        if template is not None:
            yield IssueCoupon(template_id=template, reason=f"journey:{jid}", rule=JOURNEY_RULE,
                              inputs={**inputs, "couponTemplateId": template})
        if journey.get("notify"):
            yield Emit(detail_type="notification.requested", rule=JOURNEY_RULE, inputs=inputs,
                       detail={"kind": journey["notify"], "journey": jid, "segment": segment})
