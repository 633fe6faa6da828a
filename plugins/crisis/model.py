"""The crisis family's model: brand-level crisis state that the `crisis` plugin reads and changes.

An event's member is one partition; a crisis is the whole brand's. This module is the brand-level half:

- **feedback counters**: per brand, *scope* (`channel:douyin`, `topic:quality`, `brand`), hour and shard, how much
  feedback arrived and how much of it was negative. An event adds to one of `COUNTER_SHARDS` shards of its hour
  (chosen by its id) with an unconditional ADD, so concurrent events of one scope neither conflict on one item nor
  lose a count; a reading sums the shards. Counted in the event's own transaction, with its processed record, each
  distinct event counts exactly once however often it is delivered. No item is a scope-wide lock: the level is
  decided from the counts as read (the event's own count included), and raising it is guarded by the alert's own
  item (opened only if absent, raised only from the level read), so an alert goes through each level at most once.
  Events counted at the same instant may not see each other: the crossing event may then read one or two short
  and the next reading raises it (counts only grow within an hour; each reading shows on the alert).
- **alerts**: at most one unresolved alert per metric (a threshold's name) and scope, enforced by its key; a worse
  reading raises that alert's level instead of opening another. An alert carries its response deadline, which
  the hourly sweep finds through the due index when it passes unacknowledged.

What plugins see is `context.extras["alerts"]` (an `AlertsView`), loaded for `feedback.received` events and for
the hourly alert sweep of brands that enabled `crisis`. Their effects (`CountFeedback`, `RaiseAlert`,
`EscalateAlert`) become side writes (`CountWrite`, `OpenAlertWrite`, `RaiseAlertWrite`, `EscalateAlertWrite`) that
`plugins/crisis/storage.py` adds to the event's transaction. Staff acknowledge and resolve alerts with `acknowledge` and
`resolve` below.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any, ClassVar, Iterable, Mapping

from plugins.coupons.effects import TemplatesPaused
from rules.effects import BrandEffect
from rules.errors import Busy, NotFound, SiyuError, WriteConflict
from rules.events import SweepEvent
from rules.ids import time_key

CRISIS = "crisis"  # the plugin whose parameters say what to count
ALERT_SWEEP = "alert-deadlines"  # the hourly sweep (serverless.yml `alert-sweep`)
LEVELS = ("blue", "yellow", "red")  # ascending severity
MEASURES = ("negativeCount", "negativeShare", "negativeSpike", "volumeDrop")
OPEN, ACKNOWLEDGED, RESOLVED = "open", "acknowledged", "resolved"
# Counters outlive the longest stretch a threshold may read (a window, or a spike's baseline and its hour).
MAX_WINDOW_HOURS = 168
COUNTERS_KEPT = timedelta(days=8)
# Shards of one scope's hour: concurrent events of a scope write different items (a transaction conflicts with
# another touching the same item); a reading reads at most this many items per hour.
COUNTER_SHARDS = 8


def counter_shard(event_id: str) -> int:
    """The shard an event counts in: from its id, so a redelivery or a retry writes where it would have."""
    return int(hashlib.sha256(event_id.encode()).hexdigest()[:8], 16) % COUNTER_SHARDS


def rank(level: str | None) -> int:
    """0 for no level, then 1 (blue) to 3 (red)."""
    return LEVELS.index(level) + 1 if level else 0


def hour_of(at: datetime) -> datetime:
    """The start of the UTC hour `at` falls in: counters are kept per hour."""
    return at.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def new_alert_id(at: datetime, seed: str) -> str:
    """Time-sortable (alerts list newest first) and derived from the event that opened it: a retry opens the same."""
    return f"{time_key(at)}-{hashlib.sha256(seed.encode()).hexdigest()[:10]}"


# ---- scopes and thresholds --------------------------------------------------------------------------------------

BRAND_SCOPE = "brand"


def channel_scope(channel: str) -> str:
    return f"channel:{channel.strip().lower()}"


def topic_scope(topic: str) -> str:
    return f"topic:{topic.strip().lower()}"


def scope_parts(scope: str) -> tuple[str, str | None]:
    """("channel", "douyin") for "channel:douyin"; ("brand", None) for the whole brand."""
    kind, _, value = scope.partition(":")
    return kind, value or None


@dataclass(frozen=True)
class Threshold:
    """One metric a brand watches (the `crisis` plugin's `thresholds` parameter, by name).

    `levels` maps blue/yellow/red to the value the reading must exceed; `measure` says what the reading is:
    negatives in the last `window_hours` (negativeCount), their share of all feedback once at least `min_total`
    arrived (negativeShare), or negatives in the latest hour against the hourly average of the `baseline_hours`
    before it (negativeSpike: the level's value is the factor, and at least `min_count` negatives are needed), or
    how far all feedback fell in the last `window_hours` complete hours against the `window_hours` before them
    (volumeDrop: the level's value is the fall, 0.3 for -30%, reached when the fall is at least that, once the
    earlier window had `min_total`).
    """

    name: str
    measure: str
    levels: Mapping[str, float]
    scope: str = "channel"  # channel, topic or brand
    window_hours: int = 24
    min_total: int = 30
    baseline_hours: int = 24
    min_count: int = 20
    topics: frozenset[str] | None = None  # topic scope only: just these topics
    channels: frozenset[str] | None = None  # channel scope only: just these channels
    response_hours: float | None = None  # this kind of alert's own response time (service dispute: 2)

    @classmethod
    def of(cls, name: str, data: Mapping[str, Any]) -> "Threshold":
        topics = data.get("topics")
        return cls(
            name=name, measure=data["measure"], levels=MappingProxyType(dict(data["levels"])),
            scope=data.get("scope", "channel"), window_hours=int(data.get("windowHours", 24)),
            min_total=int(data.get("minTotal", 30)), baseline_hours=int(data.get("baselineHours", 24)),
            min_count=int(data.get("minCount", 20)),
            topics=frozenset(t.strip().lower() for t in topics) if topics is not None else None,
            channels=frozenset(c.strip().lower() for c in data["channels"]) if data.get("channels") else None,
            response_hours=data.get("responseHours"),
        )

    @property
    def lookback_hours(self) -> int:
        """How many hourly buckets a reading needs, the latest included."""
        if self.measure == "negativeSpike":
            return self.baseline_hours + 1
        if self.measure == "volumeDrop":
            return 2 * self.window_hours + 1  # two complete windows, and the hour in progress
        return self.window_hours

    def scope_for(self, channel: str | None, topic: str | None) -> str | None:
        """The scope a piece of feedback counts in for this threshold, or None if the threshold ignores it."""
        if self.scope == "brand":
            return BRAND_SCOPE
        if self.scope == "channel":
            if not channel or not channel.strip():
                return None
            if self.channels is not None and channel.strip().lower() not in self.channels:
                return None
            return channel_scope(channel)
        if not topic or not topic.strip():
            return None
        if self.topics is not None and topic.strip().lower() not in self.topics:
            return None
        return topic_scope(topic)


def thresholds(params: Mapping[str, Any]) -> tuple[Threshold, ...]:
    return tuple(Threshold.of(name, data) for name, data in sorted((params.get("thresholds") or {}).items()))


def feedback_scopes(params: Mapping[str, Any], channel: str | None, topic: str | None) -> dict[str, int]:
    """scope -> hourly buckets to read, for one piece of feedback under a brand's thresholds."""
    needed: dict[str, int] = {}
    for threshold in thresholds(params):
        scope = threshold.scope_for(channel, topic)
        if scope is not None:
            needed[scope] = max(needed.get(scope, 0), threshold.lookback_hours)
    return needed


# ---- what plugins read ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeCounts:
    """The latest hourly counters of one scope, as read (every shard of an hour summed)."""

    scope: str
    # hour -> (negative, total)
    hours: Mapping[datetime, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))
    latest_at: datetime | None = None  # the latest event time the scope has counted (None: never, or not kept)

    @property
    def latest_hour(self) -> datetime | None:
        return max(self.hours) if self.hours else None

    def raise_time(self, now: datetime) -> datetime:
        """When an alert of this scope is raised by an event dated `now`: the latest event time the scope has
        counted, this one included. A late event (dated before what the scope already counted) raises it when Siyu
        knew, not at its own past time, so a response window is never partly spent at birth."""
        seen = self.latest_at or self.latest_hour
        return max(now, seen) if seen is not None else now

    def plus(self, hour: datetime, negative: bool) -> "ScopeCounts":
        """These counts with one more piece of feedback in `hour`."""
        before_negative, before_total = self.hours.get(hour, (0, 0))
        hours = {**self.hours, hour: (before_negative + int(negative), before_total + 1)}
        return replace(self, hours=MappingProxyType(hours))

    def negative(self, first: datetime, last: datetime) -> int:
        return sum(n for hour, (n, _) in self.hours.items() if first <= hour <= last)

    def total(self, first: datetime, last: datetime) -> int:
        return sum(t for hour, (_, t) in self.hours.items() if first <= hour <= last)


@dataclass(frozen=True)
class AlertChange:
    """One step in an alert's life: opened, raised, escalated, acknowledged, resolved."""

    at: datetime
    action: str
    level: str
    value: float | None = None
    threshold: float | None = None
    by: str | None = None  # the event that caused it, or the staff member


@dataclass(frozen=True)
class Alert:
    alert_id: str
    brand_id: str
    metric: str  # the threshold's name
    measure: str
    scope: str
    level: str
    status: str
    value: float
    threshold: float
    opened_at: datetime
    raised_at: datetime  # when it reached its current level
    respond_by: datetime
    current_value: float | None = None  # the metric's latest reading as counting goes on (None: `value`)
    escalated_for: datetime | None = None  # the deadline already escalated, if any
    escalated_at: datetime | None = None
    escalations: int = 0
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    pause_coupon_templates: tuple[str, ...] = ()
    history: tuple[AlertChange, ...] = ()

    @property
    def unresolved(self) -> bool:
        return self.status != RESOLVED

    def overdue(self, now: datetime) -> bool:
        """Unacknowledged past its response deadline."""
        return self.status == OPEN and self.respond_by <= now

    def needs_escalation(self, now: datetime) -> bool:
        return self.overdue(now) and self.escalated_for != self.respond_by


@dataclass(frozen=True)
class AlertsView:
    """`context.extras["alerts"]`: the brand's unresolved alerts, and the counters of the scopes this event
    counts in (none for the sweep)."""

    open_alerts: Mapping[tuple[str, str], Alert]  # (metric, scope) -> alert
    counts: Mapping[str, ScopeCounts] = field(default_factory=lambda: MappingProxyType({}))

    def open_alert(self, metric: str, scope: str) -> Alert | None:
        return self.open_alerts.get((metric, scope))


@dataclass(frozen=True)
class AlertDue:
    brand_id: str
    alert_id: str
    at: datetime


def load_alerts(store: Any, brand: Any, event: Any, member: Any) -> AlertsView | None:
    """A few Queries, never a Scan: the brand's unresolved alerts, then each scope's latest buckets."""
    params = brand.plugins.get(CRISIS)
    if params is None:
        return None
    if isinstance(event, SweepEvent):
        if event.sweep != ALERT_SWEEP:
            return None
        return AlertsView(_by_key(store.open_alerts(brand.brand_id)))
    if event.detail_type != "feedback.received":
        return None
    scopes = feedback_scopes(params, event.get("channel"), event.get("topic"))
    if not scopes:
        return None
    counts = {scope: store.feedback_counts(brand.brand_id, scope, hours=hours) for scope, hours in scopes.items()}
    return AlertsView(_by_key(store.open_alerts(brand.brand_id)), MappingProxyType(counts))


def _by_key(alerts: Iterable[Alert]) -> Mapping[tuple[str, str], Alert]:
    return MappingProxyType({(a.metric, a.scope): a for a in alerts})


# ---- effects ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CountFeedback(BrandEffect):
    """Count one piece of feedback in `hour`, in each of `scopes` (negative or not)."""

    scopes: tuple[str, ...]
    hour: datetime
    negative: bool

    def check(self, *, brand: Any, now: datetime, member: Any) -> None:
        if not self.scopes or len(set(self.scopes)) != len(self.scopes):
            raise ValueError("scopes must be distinct and at least one")
        if self.hour != hour_of(self.hour):
            raise ValueError("hour must be the start of a UTC hour")


@dataclass(frozen=True, kw_only=True)
class RaiseAlert(BrandEffect):
    """Open an alert for (`metric`, `scope`) at `level` (`from_level` None), or raise the unresolved one
    (`alert_id`, now at `from_level`) to `level`. `respond_by` is its response deadline from now on."""

    alert_id: str
    metric: str
    measure: str
    scope: str
    level: str
    from_level: str | None
    value: float
    threshold: float
    respond_by: datetime
    pause_coupon_templates: tuple[str, ...] = ()
    at: datetime | None = None  # when it is raised (`ScopeCounts.raise_time`); None: the event's time

    def check(self, *, brand: Any, now: datetime, member: Any) -> None:
        if self.level not in LEVELS or (self.from_level is not None and rank(self.from_level) >= rank(self.level)):
            raise ValueError(f"cannot go from {self.from_level!r} to {self.level!r}: levels only rise")
        if self.at is not None and (self.at.tzinfo is None or self.at < now):
            raise ValueError("at must be a time with a zone, not before the event's")
        if self.respond_by.tzinfo is None or self.respond_by <= (self.at or now):
            raise ValueError("respond_by must be a time with a zone, after the raise")


@dataclass(frozen=True, kw_only=True)
class ShowReading(BrandEffect):
    """The unresolved alert `alert_id` shows `value` as its metric's current reading (counting went on)."""

    alert_id: str
    metric: str
    scope: str
    value: float


@dataclass(frozen=True, kw_only=True)
class EscalateAlert(BrandEffect):
    """The alert missed its response deadline `respond_by` without being acknowledged."""

    alert_id: str
    metric: str
    scope: str
    level: str
    respond_by: datetime


# ---- side writes (plugins/crisis/storage.py writes them) -------------------------------------------------------------


@dataclass(frozen=True)
class CountWrite:
    """Add one to shard `shard` of the scope's bucket for `hour` (and `negative` to its negatives), kept until
    `bucket_until`. With `latest_at`, the shard also records it as the latest event time it counted, on condition
    that it holds no later one (a later event of the same shard, counted meanwhile, makes this a conflict)."""

    items: ClassVar[int] = 1
    brand_id: str
    scope: str
    hour: datetime
    shard: int
    negative: int
    bucket_until: datetime
    latest_at: datetime | None = None


@dataclass(frozen=True)
class OpenAlertWrite:
    """A new alert, and its key per metric and scope, which must be free."""

    items: ClassVar[int] = 2
    alert: Alert


@dataclass(frozen=True)
class RaiseAlertWrite:
    """The unresolved alert `alert_id`, still at `from_level`, goes to `level` (and is open again if it had been
    acknowledged)."""

    items: ClassVar[int] = 2
    brand_id: str
    alert_id: str
    metric: str
    scope: str
    from_level: str
    level: str
    value: float
    threshold: float
    respond_by: datetime
    pause_coupon_templates: tuple[str, ...]
    change: AlertChange


@dataclass(frozen=True)
class ReadingWrite:
    """The unresolved alert `alert_id` (and its live copy) shows `value` as its current reading."""

    items: ClassVar[int] = 2
    brand_id: str
    alert_id: str
    metric: str
    scope: str
    value: float


@dataclass(frozen=True)
class EscalateAlertWrite:
    """The alert, still open with deadline `respond_by`, is marked escalated for that deadline and leaves the due
    index."""

    items: ClassVar[int] = 2
    brand_id: str
    alert_id: str
    metric: str
    scope: str
    respond_by: datetime
    change: AlertChange


def plan_count(effect: CountFeedback, plan: Any) -> Iterable[CountWrite]:
    view = plan.extras.get("alerts")
    shard = counter_shard(plan.event_id)
    for scope in effect.scopes:
        counts = view.counts.get(scope) if view is not None else None
        if counts is None:
            raise ValueError(f"the counters of scope {scope!r} were not loaded for this event")
        # Only an event at least as late as any counted moves the scope's latest time (a late one leaves it).
        later = counts.latest_at is None or plan.now >= counts.latest_at
        yield CountWrite(plan.brand.brand_id, scope, effect.hour, shard, int(effect.negative),
                         bucket_until=effect.hour + COUNTERS_KEPT, latest_at=plan.now if later else None)


def plan_raise(effect: RaiseAlert, plan: Any) -> Iterable[Any]:
    at = effect.at or plan.now
    change = AlertChange(at, "opened" if effect.from_level is None else "raised", effect.level,
                         effect.value, effect.threshold, by=plan.event_id)
    if effect.from_level is None:
        yield OpenAlertWrite(Alert(
            alert_id=effect.alert_id, brand_id=plan.brand.brand_id, metric=effect.metric, measure=effect.measure,
            scope=effect.scope, level=effect.level, status=OPEN, value=effect.value, threshold=effect.threshold,
            opened_at=at, raised_at=at, respond_by=effect.respond_by, current_value=effect.value,
            pause_coupon_templates=effect.pause_coupon_templates, history=(change,)))
    else:
        yield RaiseAlertWrite(plan.brand.brand_id, effect.alert_id, effect.metric, effect.scope, effect.from_level,
                              effect.level, effect.value, effect.threshold, effect.respond_by,
                              effect.pause_coupon_templates, change)
    if effect.pause_coupon_templates:
        # The coupon family's own pause items, held by this alert until it is resolved: claims check them in
        # their write, so a coupon cannot be claimed in the same instant the brand goes red.
        yield TemplatesPaused(plan.brand.brand_id, effect.pause_coupon_templates, by=effect.alert_id)


def plan_reading(effect: ShowReading, plan: Any) -> Iterable[ReadingWrite]:
    yield ReadingWrite(plan.brand.brand_id, effect.alert_id, effect.metric, effect.scope, effect.value)


def plan_escalation(effect: EscalateAlert, plan: Any) -> Iterable[EscalateAlertWrite]:
    yield EscalateAlertWrite(plan.brand.brand_id, effect.alert_id, effect.metric, effect.scope, effect.respond_by,
                             AlertChange(plan.now, "escalated", effect.level, by=plan.event_id))


# ---- staff: acknowledge and resolve -----------------------------------------------------------------------------


class AlertNotFound(NotFound):
    code = "ALERT_NOT_FOUND"

    def __init__(self, alert_id: str) -> None:
        super().__init__(alert_id=alert_id)
        self.alert_id = alert_id


class AlertAlreadyResolved(SiyuError):
    code = "ALERT_ALREADY_RESOLVED"

    def __init__(self, alert: Alert) -> None:
        super().__init__(alert_id=alert.alert_id, resolved_at=alert.resolved_at.isoformat())
        self.alert_id = alert.alert_id
        self.resolved_at = alert.resolved_at


MAX_ATTEMPTS = 20


def acknowledge(store: Any, brand_id: str, alert_id: str, *, by: str, now: datetime) -> Alert:
    """Someone owns the alert now: it stops counting towards escalation. Acknowledging twice changes nothing; a
    later rise in level opens it again, for whoever owns the higher level."""

    def step(alert: Alert) -> Alert | None:
        if alert.status == ACKNOWLEDGED:
            return alert
        store.acknowledge_alert(alert, by=by, at=now)
        return None

    return _change(store, brand_id, alert_id, step)


def resolve(store: Any, brand_id: str, alert_id: str, *, by: str, now: datetime) -> Alert:
    """The alert is closed: its key per metric and scope is free, so a later bad reading opens a new alert, and
    the coupon templates it paused are released (in the same write)."""

    def step(alert: Alert) -> Alert | None:
        store.resolve_alert(alert, by=by, at=now)
        return None

    return _change(store, brand_id, alert_id, step)


def _change(store: Any, brand_id: str, alert_id: str, step: Any) -> Alert:
    for attempt in range(MAX_ATTEMPTS):
        alert = store.get_alert(brand_id, alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        if alert.status == RESOLVED:
            raise AlertAlreadyResolved(alert)
        try:
            unchanged = step(alert)
        except WriteConflict:
            # A reading raised it, the sweep escalated it or another staff member got there first: read again.
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
            continue
        return unchanged or store.get_alert(brand_id, alert_id)
    raise Busy("the alert kept changing; nothing was written, try again")


def brands_with_alerts_due(store: Any, until: datetime) -> list[tuple[str, None]]:
    """The hourly sweep's targets: every brand with an open alert past its response deadline, once each."""
    return [(brand_id, None) for brand_id in sorted({d.brand_id for d in store.alerts_due(until)})]
