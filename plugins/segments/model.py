"""Lifecycle stages, RFM bands, value layers, named RFM groups and personas, computed from a member's orders.

Everything here is pure: `classify` judges a member at an instant; `next_change` finds the first later instant at
which that judgement differs (an order ageing out of a window, a threshold of days without an order passing), which
is when the daily sweep must call the member back. Only such instants are scheduled, so the sweep touches members
whose state changes, never the rest.

Segment codes (README, "Segments"):
- `STAGE_<stage>`: the lifecycle stage (PROSPECT, NEW, ACTIVE, SLEEPING, DORMANT, LOST);
- `VALUE_HIGH` / `VALUE_MEDIUM` / `VALUE_LOW`: the value layer;
- `RFM_<group>`: the named RFM group (recency x frequency x monetary, each high or low: 重要价值 ... 一般挽留);
- `PERSONA_HIGH_NET_WORTH`, `PERSONA_HIGH_FREQUENCY`, `PERSONA_GROWTH`, `PERSONA_DORMANT` (DOMAIN.md 1.3).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, ClassVar, Iterable, Mapping

from plugins.segments.effects import (
    ACTIVE,
    DORMANT,
    HOLDING,
    LOST,
    NEW,
    PLUGIN,
    PROSPECT,
    SLEEPING,
    STAGE_PREFIX,
    OrderFact,
    SegmentState,
)
from rules.effects import BrandEffect
from rules.sweeps import DAILY

DAY = timedelta(days=1)
# Orders older than this are forgotten (the year-on-year persona compares two 12-month windows); at most this many
# are kept, newest first, so the holding stays small for any member.
ORDER_WINDOW = timedelta(days=731)
MAX_ORDERS = 300
# How many candidate instants `next_change` looks at before it gives up (and asks to be called back then).
MAX_CANDIDATES = 2_000

PRESETS: dict[str, dict[str, Any]] = {
    # DOMAIN.md 1.4: first order within 30 days is NEW; 30 days without an order is sleeping, 180 dormant, 365 lost.
    "lifecycle": {"newDays": 30, "sleepingDays": 30, "dormantDays": 180, "lostDays": 365},
    # DOMAIN.md 1.2: frequency high at >= 3 orders a month, low at <= 1 a quarter; AOV 0-100 / 100-300 / > 300 yuan;
    # high value = the top 20% of the brand's buyers by 12-month net spend (the line computed daily from the brand's
    # spend distribution; `highValueNetFen` until it first is), or >= 3 referred members a year.
    "rfm": {"recentDays": 30, "frequentPerMonth": 3, "rarePerQuarter": 1, "aovMediumFen": 10_000,
            "aovHighFen": 30_000, "highValueTopPercent": 20, "highValueNetFen": 500_000, "mediumValueNetFen": 100_000,
            "socialReferrals": 3},
    # DOMAIN.md 1.3: > 50,000 yuan a year; >= 4 visits a month; spend up > 30% year on year; 180 days dormant.
    "personas": {"highNetWorthFen": 5_000_000, "highFrequencyPerMonth": 4, "growthPercent": 30, "dormantDays": 180},
}

RFM_GROUPS = {
    # (recent, frequent, monetary) -> code; the names brands use are in messages.py (segment.RFM_...).
    (True, True, True): "RFM_IMPORTANT_VALUE",        # 重要价值
    (False, True, True): "RFM_IMPORTANT_KEEP",        # 重要保持
    (True, False, True): "RFM_IMPORTANT_DEVELOP",     # 重要发展
    (False, False, True): "RFM_IMPORTANT_RETAIN",     # 重要挽留
    (True, True, False): "RFM_GENERAL_VALUE",         # 一般价值
    (False, True, False): "RFM_GENERAL_KEEP",         # 一般保持
    (True, False, False): "RFM_GENERAL_DEVELOP",      # 一般发展
    (False, False, False): "RFM_GENERAL_RETAIN",      # 一般挽留
}
VALUE_LAYERS = ("VALUE_HIGH", "VALUE_MEDIUM", "VALUE_LOW")
PERSONAS = ("PERSONA_HIGH_NET_WORTH", "PERSONA_HIGH_FREQUENCY", "PERSONA_GROWTH", "PERSONA_DORMANT")
STAGE_CODES = tuple(STAGE_PREFIX + s for s in (PROSPECT, NEW, ACTIVE, SLEEPING, DORMANT, LOST))
ALL_CODES = STAGE_CODES + VALUE_LAYERS + tuple(RFM_GROUPS.values()) + PERSONAS


# ---- the brand's 12-month net spend distribution, and the high-value line drawn from it ---------------------------
#
# Every profiled member with net spend in the last 12 months counts in one bucket of the brand's distribution; the
# buckets are log-scale, 16 to a doubling (each about 4.4% wide), with integer fen edges, so a bucket is found by a
# bisection (no floating point at the edges) and the whole range up to a billion yuan is under 600 buckets.
BUCKETS_PER_DOUBLING = 16
EDGES: tuple[int, ...] = tuple(sorted({round(2 ** (k / BUCKETS_PER_DOUBLING))
                                       for k in range(0, BUCKETS_PER_DOUBLING * 37)}))
VALUE_LINE_SWEEP = "segments-value-line"  # the daily computation of each brand's line (Family.sweeps)
LINE = "segments_line"  # context.extras: the brand's spend distribution, for the line sweep only


def spend_bucket(net_fen: int) -> int | None:
    """The bucket a 12-month net spend counts in (None: no spend). Bucket k holds EDGES[k] <= fen < EDGES[k+1]."""
    if net_fen <= 0:
        return None
    return bisect.bisect_right(EDGES, net_fen) - 1


def value_line(counts: Mapping[int, int], top_percent: int) -> tuple[int | None, int, int]:
    """(line, buyers, at or above it) from the buckets' member counts: the line is the lowest bucket edge such that
    the members at or above it are at most `top_percent`% of the buyers (rounded down); when the top bucket alone
    holds more, its edge (members of one bucket are not told apart). None: no buyers."""
    held = sorted(((k, n) for k, n in counts.items() if n > 0), reverse=True)
    buyers = sum(n for _, n in held)
    if not held:
        return None, 0, 0
    quota = buyers * top_percent // 100
    line, above = EDGES[held[0][0]], held[0][1]
    for k, n in held[1:]:
        if above + n > quota:
            break
        line, above = EDGES[k], above + n
    return line, buyers, above


def line_of(params: Mapping[str, Any]) -> int | None:
    """The brand's computed high-value line (fen), as the daily computation wrote it into the brand's parameters."""
    line = params.get("valueLine") or {}
    return line.get("fen")


def settings(params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The brand's parameters over the presets, section by section."""
    return {section: {**preset, **(params.get(section) or {})} for section, preset in PRESETS.items()}


@dataclass(frozen=True)
class Judgement:
    stage: str
    stage_since: datetime
    segments: frozenset[str]
    inputs: Mapping[str, Any] = field(default_factory=dict)  # the figures that decided it (the explanation)
    bucket: int | None = None  # the spend distribution's bucket the member counts in (`spend_bucket`)


def _net_orders(orders: Iterable[OrderFact], until: datetime) -> list[OrderFact]:
    return [o for o in orders if o.net_fen > 0 and o.at <= until]


def classify(cfg: Mapping[str, Mapping[str, Any]], orders: tuple[OrderFact, ...], now: datetime, *,
             registered_at: datetime, first_order_at: datetime | None, last_order_at: datetime | None,
             referrals: Iterable[datetime] = (), profiling: bool = True, high_line: int | None = None) -> Judgement:
    """The member's stage and segments at `now`. Refunds are netted: a fully refunded order is no order.
    `high_line`: the brand's computed high-value line (fen of 12-month net spend); None: `highValueNetFen`."""
    life, rfm, persona = cfg["lifecycle"], cfg["rfm"], cfg["personas"]
    net = _net_orders(orders, now)
    last = max((o.at for o in net), default=None)
    if last is None and not orders:
        last = last_order_at  # every kept order aged out: the stored last order still dates the stage
    first = first_order_at if first_order_at is not None else min((o.at for o in net), default=None)
    if last is None:
        stage, since = PROSPECT, registered_at
    else:
        quiet = now - last
        if quiet >= life["lostDays"] * DAY:
            stage, since = LOST, last + life["lostDays"] * DAY
        elif quiet >= life["dormantDays"] * DAY:
            stage, since = DORMANT, last + life["dormantDays"] * DAY
        elif quiet >= life["sleepingDays"] * DAY:
            stage, since = SLEEPING, last + life["sleepingDays"] * DAY
        elif first is not None and now - first < life["newDays"] * DAY:
            stage, since = NEW, first
        else:
            # Active since the order that ended the last quiet spell, or since NEW ended.
            since = _active_since(net, life, first)
            stage = ACTIVE
    codes = {STAGE_PREFIX + stage}
    inputs: dict[str, Any] = {"stage": stage, "lastOrderAt": last.isoformat() if last else None}
    if last is None or not profiling:
        return Judgement(stage, since, frozenset(codes), inputs)

    def within(days: int, start: datetime | None = None) -> list[OrderFact]:
        end = start or now
        return [o for o in net if end - days * DAY < o.at <= end]

    year = within(365)
    net12 = sum(o.net_fen for o in year)
    prior12 = sum(o.net_fen for o in within(365, now - 365 * DAY))
    month, quarter = len(within(30)), len(within(90))
    aov = net12 // len(year) if year else 0
    referred = sum(1 for at in referrals if now - 365 * DAY < at <= now)
    recent = now - last < rfm["recentDays"] * DAY
    frequency = "HIGH" if month >= rfm["frequentPerMonth"] else "LOW" if quarter <= rfm["rarePerQuarter"] else "MEDIUM"
    monetary = "HIGH" if aov > rfm["aovHighFen"] else "MEDIUM" if aov >= rfm["aovMediumFen"] else "LOW"
    line = rfm["highValueNetFen"] if high_line is None else high_line
    if net12 >= line or referred >= rfm["socialReferrals"]:
        layer = "VALUE_HIGH"
    elif net12 >= rfm["mediumValueNetFen"] or frequency == "HIGH":
        layer = "VALUE_MEDIUM"
    else:
        layer = "VALUE_LOW"
    codes.add(layer)
    codes.add(RFM_GROUPS[(recent, frequency != "LOW", monetary != "LOW")])
    if net12 > persona["highNetWorthFen"]:
        codes.add("PERSONA_HIGH_NET_WORTH")
    if month >= persona["highFrequencyPerMonth"]:
        codes.add("PERSONA_HIGH_FREQUENCY")
    if prior12 > 0 and net12 * 100 > prior12 * (100 + persona["growthPercent"]):
        codes.add("PERSONA_GROWTH")
    if now - last >= persona["dormantDays"] * DAY:
        codes.add("PERSONA_DORMANT")
    inputs.update({"netSpend12mFen": net12, "priorNetSpend12mFen": prior12, "ordersLast30Days": month,
                   "ordersLast90Days": quarter, "aovFen": aov, "referredThisYear": referred,
                   "recency": "HIGH" if recent else "LOW", "frequency": frequency, "monetary": monetary,
                   "highValueLineFen": line, "highValueLine": "fixed" if high_line is None else "top-percent"})
    return Judgement(stage, since, frozenset(codes), inputs, spend_bucket(net12))


def _active_since(net: list[OrderFact], life: Mapping[str, Any], first: datetime | None) -> datetime:
    """When the current active spell began: the first order after a gap of `sleepingDays`, or NEW's end."""
    times = sorted(o.at for o in net)
    start = times[0] if times else first
    for before, after in zip(times, times[1:]):
        if after - before >= life["sleepingDays"] * DAY:
            start = after
    if first is not None and start is not None and start <= first + life["newDays"] * DAY:
        return first + life["newDays"] * DAY
    return start


def candidates(cfg: Mapping[str, Mapping[str, Any]], orders: tuple[OrderFact, ...], last_order_at: datetime | None,
               referrals: Iterable[datetime], first_order_at: datetime | None, now: datetime) -> list[datetime]:
    """Every later instant at which a judgement could change: an order or referral leaving a window, a threshold
    of days after the last order, NEW ending."""
    life, rfm, persona = cfg["lifecycle"], cfg["rfm"], cfg["personas"]
    offsets = {30, 90, 365, 730, life["sleepingDays"], life["dormantDays"], life["lostDays"], rfm["recentDays"],
               persona["dormantDays"]}
    times = {o.at for o in orders if o.net_fen > 0}
    if last_order_at is not None:
        times.add(last_order_at)
    found = {t + d * DAY for t in times for d in offsets}
    found |= {at + 365 * DAY for at in referrals}
    if first_order_at is not None:
        found.add(first_order_at + life["newDays"] * DAY)
    return sorted(t for t in found if t > now)


def next_change(judge, current: Judgement, instants: list[datetime]) -> datetime | None:
    """The first of `instants` at which `judge(at)` differs from `current` (stage, segments, or the spend bucket:
    an order leaving the 12-month window moves the member in the brand's distribution); None: never."""
    for at in instants[:MAX_CANDIDATES]:
        later = judge(at)
        if (later.stage, later.segments, later.bucket) != (current.stage, current.segments, current.bucket):
            return at
    return instants[MAX_CANDIDATES] if len(instants) > MAX_CANDIDATES else None


def with_order(orders: tuple[OrderFact, ...], order: OrderFact, now: datetime) -> tuple[OrderFact, ...]:
    kept = [o for o in orders if now - o.at < ORDER_WINDOW] + [order]
    return tuple(sorted(kept, key=lambda o: o.at)[-MAX_ORDERS:])


def with_refund(orders: tuple[OrderFact, ...], order_id: str, refund_id: str, fen: int) -> tuple[OrderFact, ...]:
    return tuple(replace(o, refunded_fen=o.refunded_fen + fen, refund_ids=o.refund_ids + (refund_id,))
                 if o.order_id == order_id else o for o in orders)


# ---- the effect, and what it writes --------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class UpdateSegments(BrandEffect):
    """The member's new stage and segments; `entered` (code -> since) and `left` keep the per-segment index and
    counts. The brand's judgement of the member: it stays out of the member's own activity (the brand decides
    whether members see their segments, `membersSeeSegments`). The order or refund that changed the judgement is carried as a delta (`order`: id, at, fen; `refund`:
    orderId, refundId, fen), so the event's explanation stays small however many orders the member has."""

    stage: str
    stage_since: datetime
    segments: Mapping[str, datetime]
    entered: Mapping[str, datetime]
    left: tuple[str, ...]
    next_due: datetime | None = None
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    order: Mapping[str, Any] | None = None
    refund: Mapping[str, Any] | None = None
    spend_bucket: int | None = None
    # A backfill's orders from the member's history, merged with what was held: the whole list, in place of it
    # (as JSON-ready `{id, at, fen, refunded, refunds}`, so the event's record can keep it).
    orders: tuple[Mapping[str, Any], ...] | None = None
    needs_member = True
    owner = PLUGIN

    def applied(self, held: SegmentState | None, now: datetime) -> SegmentState:
        """The state after this effect, from the state as held."""
        orders = held.orders if held else ()
        if self.orders is not None:
            orders = tuple(OrderFact(o["id"], o["at"], o["fen"], o["refunded"], tuple(o["refunds"]))
                           for o in self.orders)
        if self.order is not None:
            orders = with_order(orders, OrderFact(self.order["id"], self.order["at"], self.order["fen"]), now)
        if self.refund is not None:
            orders = with_refund(orders, self.refund["orderId"], self.refund["refundId"], self.refund["fen"])
        return SegmentState(stage=self.stage, stage_since=self.stage_since, segments=dict(self.segments),
                            orders=orders, first_order_at=self.first_order_at, last_order_at=self.last_order_at,
                            next_due=self.next_due, computed_at=now, spend_bucket=self.spend_bucket)

    def project(self, member: Any, now: datetime) -> Any:
        held = member.holdings.get(HOLDING, ())
        state = self.applied(held[0] if held else None, now)
        return replace(member, holdings={**member.holdings, HOLDING: (state,)})


@dataclass(frozen=True)
class SegmentsWritten:
    """A side write: the member's state item, their entries in the per-segment index and counts, and their move
    in the brand's spend distribution (`bucket_before` -> `state.spend_bucket`)."""

    brand_id: str
    member_id: str
    state: SegmentState
    entered: Mapping[str, datetime]
    left: tuple[str, ...]
    bucket_before: int | None = None

    @property
    def items(self) -> int:
        moved = self.bucket_before != self.state.spend_bucket
        return 1 + 2 * (len(self.entered) + len(self.left)) + (2 if moved else 0)


def plan_update(effect: UpdateSegments, plan: Any) -> Iterable[SegmentsWritten]:
    held = plan.member.holdings.get(HOLDING, ())
    before = held[0] if held else None
    state = effect.applied(before, plan.now)
    yield SegmentsWritten(plan.brand.brand_id, plan.member.profile.member_id, state, dict(effect.entered),
                          tuple(effect.left), before.spend_bucket if before else None)


# ---- the daily high-value line -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpendDistribution:
    """What the line sweep reads for one brand: its buckets' member counts, and its configuration as stored
    (fresh, not cached: the line is written into it on the version read)."""

    counts: Mapping[int, int]
    brand: Any


@dataclass(frozen=True, kw_only=True)
class SetValueLine(BrandEffect):
    """The brand's high-value line for the day: `fen` of 12-month net spend (None: no buyers yet)."""

    fen: int | None
    buyers: int
    high: int
    top_percent: int
    owner = PLUGIN


@dataclass(frozen=True)
class ValueLineWritten:
    """A side write: the line, into the brand's `segments` parameters (`valueLine`), on the configuration's version
    as read, so a staff edit meanwhile makes the sweep read again instead of losing the edit."""

    items: ClassVar[int] = 1
    brand: Any  # BrandConfig as read
    line: Mapping[str, Any]


def plan_value_line(effect: SetValueLine, plan: Any) -> Iterable[ValueLineWritten]:
    read = plan.extras.get(LINE)
    if read is None:
        raise ValueError("the brand's spend distribution was not loaded for this sweep")
    yield ValueLineWritten(read.brand, {"fen": effect.fen, "buyers": effect.buyers, "high": effect.high,
                                        "topPercent": effect.top_percent, "computedAt": plan.now.isoformat()})


def load_distribution(store: Any, brand: Any, event: Any, member: Any) -> SpendDistribution | None:
    """For the line sweep only (no other event pays for it): one Query of the brand's spend buckets, and the brand
    configuration read fresh."""
    if getattr(event, "sweep", None) != VALUE_LINE_SWEEP or PLUGIN not in brand.plugins:
        return None
    return SpendDistribution(store.spend_counts(brand.brand_id), store.get_brand(brand.brand_id, fresh=True))


def brands_with_segments(store: Any, until: datetime) -> list[tuple[str, None]]:
    """The line sweep's targets: every configured brand (they all have a daily sweep watermark) running segments."""
    found = []
    for brand_id in sorted(store.sweep_watermarks(DAILY)):
        brand = store.get_brand(brand_id)
        if brand is not None and PLUGIN in brand.plugins:
            found.append((brand_id, None))
    return found


# ---- backfill: the orders a member's history shows ------------------------------------------------------------------

HISTORY = "segments_history"  # context.extras: the member's orders from their history, for a backfill only
BACKFILL_PREFIX = "segments-backfill@"


def _order_amount(effects: Iterable[Mapping[str, Any]]) -> tuple[str | None, int | None]:
    """The order id and amount an order's recorded effects name (the points and tiers rules record both)."""
    order_id = amount = None
    for effect in effects:
        inputs = effect.get("inputs") or {}
        data = effect.get("data") or {}
        order_id = order_id or inputs.get("orderId")
        for found in (inputs.get("amountFen"), data.get("amountFen")):
            if amount is None and isinstance(found, int):
                amount = found
    return order_id, amount


def orders_from_activity(records: Iterable[tuple[str, datetime, str, list]], now: datetime
                         ) -> tuple[tuple[OrderFact, ...], datetime | None, datetime | None]:
    """(orders kept, first order, last order) from the member's activity records (detail type, time, event id,
    effects), oldest first: each paid order once, with the refunds recorded against it netted. An order whose
    effects name no amount (no rule recorded it) cannot be counted and is left out."""
    orders: dict[str, OrderFact] = {}
    for detail_type, at, event_id, effects in sorted(records, key=lambda r: r[1]):
        if detail_type == "order.paid":
            order_id, amount = _order_amount(effects)
            if order_id and amount is not None and order_id not in orders:
                orders[order_id] = OrderFact(order_id, at, amount)
        elif detail_type == "order.refunded":
            order_id = next(((e.get("inputs") or {}).get("orderId") for e in effects
                             if (e.get("inputs") or {}).get("orderId")), None)
            fen = next(((e.get("inputs") or {}).get("refundFen") for e in effects
                        if isinstance((e.get("inputs") or {}).get("refundFen"), int)), None)
            if order_id in orders and fen is not None and event_id not in orders[order_id].refund_ids:
                orders[order_id] = replace(orders[order_id], refunded_fen=orders[order_id].refunded_fen + fen,
                                           refund_ids=orders[order_id].refund_ids + (event_id,))
    paid = [o for o in orders.values() if o.fen > 0]
    first = min((o.at for o in paid), default=None)
    last = max((o.at for o in paid if o.net_fen > 0), default=None)
    kept = tuple(sorted((o for o in orders.values() if now - o.at < ORDER_WINDOW), key=lambda o: o.at))[-MAX_ORDERS:]
    return kept, first, last


def load_history(store: Any, brand: Any, event: Any, member: Any) -> tuple | None:
    """For a backfill's member only: their order history (one Query of their activity, paged)."""
    if member is None or not str(getattr(event, "sweep", "")).startswith(BACKFILL_PREFIX):
        return None
    if PLUGIN not in brand.plugins:
        return None
    records = store.member_order_activity(brand.brand_id, member.profile.member_id)
    return orders_from_activity(records, event.time)
