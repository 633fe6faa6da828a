"""`crisis`: public-opinion monitoring (舆情). Feedback is counted per channel and topic; thresholds raise blue,
yellow and red alerts with response deadlines; missed deadlines are escalated by the hourly sweep.

DOMAIN.md 6 and 11 items 49-50: more than 50 negative posts on one platform is red, and red must be answered
within the "golden 4 hours"; a product-quality complaint within 48 h; a service-attitude dispute needs the
regional manager within 2 h; a trending topic needs a plan within 6 h. Everything below is a parameter; the
presets are those numbers, and where DOMAIN gives none (blue and yellow) the choice is ours and says so.

Parameters:
- `negative`: what counts as negative feedback: a `kind` in `kinds` (["complaint"]), a `rating` of at most
  `ratingAtMost` (2, on 1-5), or a `sentiment` below `sentimentBelow` (-0.3, on -1..1). Any one is enough.
- `thresholds`: the metrics watched, by name (the name is the alert's metric). Each has a `measure`, a `scope`
  (`channel`, `topic` or `brand`: where it is counted), and `levels`: the value the reading must exceed for
  blue, yellow, red (any subset; the most severe level exceeded wins):
  - `negativeCount`: negatives in the last `windowHours` (24);
  - `negativeShare`: negatives / all feedback in the last `windowHours`, once at least `minTotal` arrived;
  - `negativeSpike`: negatives in the latest hour against the hourly average of the `baselineHours` (24)
    before it; a level's value is the factor, and at least `minCount` negatives are needed in the hour;
  - `volumeDrop`: how far all feedback (community messages sent as `chat`, reviews, ...) fell in the last
    `windowHours` complete hours against the `windowHours` before them; a level's value is the fall (0.3 for
    -30%), reached when the fall is at least that, once the earlier window had `minTotal`. It is read when
    feedback arrives: a channel that falls silent altogether sends nothing to read.
  A topic-scoped threshold may list `topics` (only those), and `responseHours`: the response time of that kind
  of alert. Presets:
  | name | measure, scope | blue | yellow | red | responseHours |
  | `negative-posts` | negativeCount, channel, 24 h | > 10 | > 25 | > 50 (DOMAIN 49) | level's |
  | `negative-share` | negativeShare, channel, 24 h, minTotal 50 | > 30% | > 50% | | level's |
  | `trending` | negativeSpike, topic, 24 h baseline, minCount 20 | | > 3x | > 10x | 6 (trending plan) |
  | `service-dispute` | negativeCount, topic "service", 24 h | | > 0 | > 10 | 2 (regional manager) |
  | `quality-complaint` | negativeCount, topic "quality", 24 h | > 0 | > 10 | > 50 | 48 (quality SOP) |
  | `community-volume` | volumeDrop, channel "wecom", 24 h, minTotal 100 | | -30% (DOMAIN 50) | | level's |
- `responseHours` by level: blue 72, yellow 48 (ours), red 4 (the golden window). An alert must be acknowledged
  within the stricter of its level's and its kind's response time; a red quality alert within 4 h, a service
  dispute within 2 h at any level.
- `pauseCouponTemplatesOnRed` ([]): coupon templates paused while a red alert of the brand is unresolved (they
  cannot be claimed; resolving the alert releases them).

Readings are of the latest window: the hours up to the newer of the event's hour and the latest hour counted
(counted in whole UTC hours: a 24-hour window is the latest hour and the 23 before it), so a late or redelivered
event never reads an older picture than the one already counted. One alert per metric and scope stays open until
staff resolve it; a worse reading raises its level (and its deadline becomes the stricter of the one it had and
the new level's, counted from the raise), a better one leaves its level as it is. Either way the alert shows the
metric's current reading (`currentValue`) as counting goes on.

An alert is raised at the latest event time its scope has counted, this event's included (and never before an
earlier raise of the same alert): a late `feedback.received`, dated before what the scope already counted, raises
it when Siyu knew, not at the event's own past time, so a red alert's 4 hours are always 4 hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from plugins.crisis.model import (
    LEVELS,
    MAX_WINDOW_HOURS,
    MEASURES,
    OPEN,
    AlertsView,
    CountFeedback,
    EscalateAlert,
    RaiseAlert,
    ScopeCounts,
    ShowReading,
    Threshold,
    hour_of,
    new_alert_id,
    rank,
    thresholds,
)
from rules.effects import BrandEmit
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo

NAME = "crisis"
VERSION = "1.0.0"
# One sweep escalates at most this many alerts of a brand (the rest in the next hour's): one transaction holds
# 100 writes.
MAX_ESCALATIONS_PER_SWEEP = 20

_LEVEL_VALUES = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {level: {"type": "number", "minimum": 0} for level in LEVELS},
}
_THRESHOLD = {
    "type": "object",
    "additionalProperties": False,
    "required": ["measure", "levels"],
    "properties": {
        "measure": {"enum": list(MEASURES)},
        "scope": {"enum": ["channel", "topic", "brand"], "default": "channel"},
        "topics": {"type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": True,
                   "items": {"type": "string", "minLength": 1, "maxLength": 64}},
        "channels": {"type": "array", "minItems": 1, "maxItems": 50, "uniqueItems": True,
                     "items": {"type": "string", "minLength": 1, "maxLength": 32}},
        "windowHours": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_HOURS, "default": 24},
        "minTotal": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 30},
        "baselineHours": {"type": "integer", "minimum": 1, "maximum": MAX_WINDOW_HOURS - 1, "default": 24},
        "minCount": {"type": "integer", "minimum": 1, "maximum": 1_000_000, "default": 20},
        "levels": _LEVEL_VALUES,
        "responseHours": {"type": "number", "exclusiveMinimum": 0, "maximum": 720},
    },
    "allOf": [
        # Only a topic-scoped threshold can pick topics (a channel's counters do not know them), and only a
        # channel-scoped one channels.
        {"if": {"required": ["topics"]},
         "then": {"required": ["scope"], "properties": {"scope": {"const": "topic"}}}},
        {"if": {"required": ["channels"]},
         "then": {"properties": {"scope": {"const": "channel"}}}},
        # A fall compares two whole windows, and counters are kept 8 days.
        {"if": {"properties": {"measure": {"const": "volumeDrop"}}},
         "then": {"properties": {"windowHours": {"maximum": 72}}}},
    ],
}
PRESET_THRESHOLDS = {
    "negative-posts": {"measure": "negativeCount", "scope": "channel", "windowHours": 24,
                       "levels": {"blue": 10, "yellow": 25, "red": 50}},
    "negative-share": {"measure": "negativeShare", "scope": "channel", "windowHours": 24, "minTotal": 50,
                       "levels": {"blue": 0.3, "yellow": 0.5}},
    "trending": {"measure": "negativeSpike", "scope": "topic", "baselineHours": 24, "minCount": 20,
                 "levels": {"yellow": 3, "red": 10}, "responseHours": 6},
    "service-dispute": {"measure": "negativeCount", "scope": "topic", "topics": ["service"], "windowHours": 24,
                        "levels": {"yellow": 0, "red": 10}, "responseHours": 2},
    "quality-complaint": {"measure": "negativeCount", "scope": "topic", "topics": ["quality"], "windowHours": 24,
                          "levels": {"blue": 0, "yellow": 10, "red": 50}, "responseHours": 48},
    "community-volume": {"measure": "volumeDrop", "scope": "channel", "channels": ["wecom"], "windowHours": 24,
                         "minTotal": 100, "levels": {"yellow": 0.3}},
}
PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "negative": {
            "type": "object", "additionalProperties": False,
            "properties": {
                "kinds": {"type": "array", "uniqueItems": True,
                          "items": {"enum": ["complaint", "review", "refund_reason", "chat"]}},
                "ratingAtMost": {"type": ["integer", "null"], "minimum": 1, "maximum": 5},
                "sentimentBelow": {"type": ["number", "null"], "minimum": -1, "maximum": 1},
            },
            "default": {"kinds": ["complaint"], "ratingAtMost": 2, "sentimentBelow": -0.3},
        },
        "thresholds": {
            "type": "object", "maxProperties": 20,
            "propertyNames": {"pattern": "^[a-z0-9][a-z0-9-]{0,39}$"},
            "additionalProperties": _THRESHOLD,
            "default": PRESET_THRESHOLDS,
        },
        "responseHours": {
            "type": "object", "additionalProperties": False, "required": list(LEVELS),
            "properties": {level: {"type": "number", "exclusiveMinimum": 0, "maximum": 720} for level in LEVELS},
            "default": {"blue": 72, "yellow": 48, "red": 4},
        },
        "pauseCouponTemplatesOnRed": {
            "type": "array", "maxItems": 50, "uniqueItems": True,
            "items": {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[A-Za-z0-9_.:@\-]+$"},
            "default": [],
        },
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=60,
                      description="Public-opinion monitoring: feedback counters, blue/yellow/red alerts with "
                                  "response deadlines, escalation of missed deadlines.")


@hookimpl
def siyu_feedback_received(event, context):
    view: AlertsView | None = context.extras.get("alerts")
    if view is None:
        return
    params = context.params
    channel, topic = event.get("channel"), event.get("topic")
    watched = [(t, scope) for t in thresholds(params) if (scope := t.scope_for(channel, topic)) is not None]
    if not watched:
        return
    negative, because = _negative(event, params["negative"])
    hour = hour_of(context.now)
    yield CountFeedback(scopes=tuple(sorted({scope for _, scope in watched})), hour=hour, negative=negative,
                        rule="count-feedback", inputs={"feedbackId": event.get("feedbackId"), "channel": channel,
                                                       "topic": topic, "negative": negative, "because": because})
    for threshold, scope in watched:
        counts = view.counts[scope]
        reading = measure(threshold, counts.plus(hour, negative), hour)
        current = view.open_alert(threshold.name, scope)
        if reading.level is None or (current is not None and rank(reading.level) <= rank(current.level)):
            if current is not None and reading.value != (current.current_value if current.current_value is not None
                                                         else current.value):
                # The alert keeps showing its metric as counting goes on, not only the reading that raised it.
                yield ShowReading(alert_id=current.alert_id, metric=threshold.name, scope=scope,
                                  value=reading.value, rule="current-reading",
                                  inputs={"metric": threshold.name, "scope": scope, **reading.inputs,
                                          "value": reading.value})
            continue
        yield from _raise(threshold, scope, reading, current, event.event_id, context, counts.raise_time(context.now))


@hookimpl
def siyu_alerts_due(sweep, context):
    view: AlertsView | None = context.extras.get("alerts")
    if view is None:
        return
    missed = sorted((a for a in view.open_alerts.values() if a.needs_escalation(context.now)),
                    key=lambda a: (a.respond_by, a.alert_id))
    for alert in missed[:MAX_ESCALATIONS_PER_SWEEP]:
        late = int((context.now - alert.respond_by).total_seconds() // 60)
        inputs = {"alertId": alert.alert_id, "level": alert.level, "respondBy": alert.respond_by.isoformat(),
                  "minutesLate": late}
        yield EscalateAlert(alert_id=alert.alert_id, metric=alert.metric, scope=alert.scope, level=alert.level,
                            respond_by=alert.respond_by, rule="escalate-missed-deadline", inputs=inputs)
        yield BrandEmit(detail_type="alert.escalated", rule="escalate-missed-deadline", inputs=inputs,
                        detail={"alertId": alert.alert_id, "metric": alert.metric, "scope": alert.scope,
                                "level": alert.level, "respondBy": alert.respond_by.isoformat(),
                                "minutesLate": late})


# ---- readings ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reading:
    value: float
    level: str | None  # the most severe level exceeded
    threshold: float  # what that level's value came to (for a spike: factor x baseline)
    inputs: dict


def measure(threshold: Threshold, counts: ScopeCounts, hour: datetime) -> Reading:
    """The threshold's reading of the latest window, and the level it reaches."""
    latest = max(hour, counts.latest_hour or hour)
    if threshold.measure == "volumeDrop":
        # Complete hours only: the hour in progress would always look like a fall.
        n = threshold.window_hours
        recent = counts.total(latest - timedelta(hours=n), latest - timedelta(hours=1))
        before = counts.total(latest - timedelta(hours=2 * n), latest - timedelta(hours=n + 1))
        fall = round(1 - recent / before, 4) if before else 0.0
        inputs = {"total": recent, "totalBefore": before, "windowHours": n, "minTotal": threshold.min_total}
        return _level(threshold, fall, inputs, lambda limit: limit, eligible=before >= threshold.min_total,
                      inclusive=True)
    if threshold.measure == "negativeSpike":
        recent = counts.negative(latest, latest)
        n = threshold.baseline_hours
        baseline = counts.negative(latest - timedelta(hours=n), latest - timedelta(hours=1)) / n
        inputs = {"negativeInHour": recent, "baselinePerHour": round(baseline, 4), "minCount": threshold.min_count}
        return _level(threshold, recent, inputs, lambda factor: factor * baseline,
                      eligible=recent >= threshold.min_count)
    first = latest - timedelta(hours=threshold.window_hours - 1)
    negative = counts.negative(first, latest)
    inputs = {"negative": negative, "windowHours": threshold.window_hours}
    if threshold.measure == "negativeCount":
        return _level(threshold, negative, inputs, lambda limit: limit)
    total = counts.total(first, latest)
    inputs |= {"total": total, "minTotal": threshold.min_total}
    return _level(threshold, negative / total if total else 0.0, inputs, lambda share: share,
                  eligible=total >= threshold.min_total)


def _level(threshold: Threshold, value: float, inputs: dict, bar, eligible: bool = True,
           inclusive: bool = False) -> Reading:
    if eligible:
        for level in reversed(LEVELS):
            if level in threshold.levels and (value >= bar(threshold.levels[level]) if inclusive
                                              else value > bar(threshold.levels[level])):
                return Reading(value, level, bar(threshold.levels[level]), inputs)
    return Reading(value, None, 0.0, inputs)


def _negative(event, rules) -> tuple[bool, str | None]:
    if event.get("kind") in (rules.get("kinds") or ()):
        return True, f"kind {event.get('kind')}"
    rating, at_most = event.get("rating"), rules.get("ratingAtMost")
    if rating is not None and at_most is not None and rating <= at_most:
        return True, f"rating {rating} <= {at_most}"
    sentiment, below = event.get("sentiment"), rules.get("sentimentBelow")
    if sentiment is not None and below is not None and sentiment < below:
        return True, f"sentiment {sentiment} < {below}"
    return False, None


def _raise(threshold: Threshold, scope: str, reading: Reading, current, event_id: str, context, at: datetime):
    # `at`: the latest event time the scope has counted, never before a raise of this alert already recorded, so
    # the response window counts from when Siyu raised it, whatever the date of the (possibly late) event.
    now = max(at, current.raised_at) if current is not None else at
    level = reading.level
    hours = context.params["responseHours"][level]
    if threshold.response_hours is not None:
        hours = min(hours, threshold.response_hours)
    respond_by = now + timedelta(hours=hours)
    if current is not None and current.status == OPEN and current.respond_by > now \
            and current.escalated_for != current.respond_by:
        # A worse reading never buys time; but a deadline already escalated (a late event, dated before it) is
        # spent: the new level gets its own, which the sweep will escalate in turn.
        respond_by = min(respond_by, current.respond_by)
    pause = tuple(context.params["pauseCouponTemplatesOnRed"]) if level == "red" else ()
    alert_id = current.alert_id if current else new_alert_id(now, f"{event_id}|{threshold.name}|{scope}")
    inputs = {"metric": threshold.name, "measure": threshold.measure, "scope": scope, **reading.inputs,
              "value": reading.value, "exceeds": reading.threshold, "responseHours": hours,
              "from": current.level if current else None}
    rule = f"{threshold.name}-{level}"
    yield RaiseAlert(alert_id=alert_id, metric=threshold.name, measure=threshold.measure, scope=scope, level=level,
                     from_level=current.level if current else None, value=reading.value,
                     threshold=reading.threshold, respond_by=respond_by, pause_coupon_templates=pause,
                     at=now, rule=rule, inputs={**inputs, "raisedAt": now.isoformat()})
    yield BrandEmit(detail_type="alert.raised", rule=rule, inputs=inputs, detail={
        "alertId": alert_id, "metric": threshold.name, "scope": scope, "level": level,
        "previousLevel": current.level if current else None, "value": reading.value,
        "threshold": reading.threshold, "respondBy": respond_by.isoformat(),
        "pauseCouponTemplates": list(pause)})
