"""The `crisis` plugin's rules, evaluated by the real engine without a database (`rules.testing.PluginCase`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from types import MappingProxyType

import pytest

import plugins.crisis.plugin as crisis
from plugins.crisis.model import (
    ACKNOWLEDGED,
    OPEN,
    Alert,
    AlertsView,
    CountFeedback,
    EscalateAlert,
    RaiseAlert,
    ScopeCounts,
    hour_of,
)
from rules.context import RuleContext
from rules.effects import BrandEmit
from rules.events import SweepEvent
from rules.testing import DEFAULT_TIME, PluginCase

NOW = DEFAULT_TIME
HOUR = hour_of(NOW)
DOUYIN = "channel:douyin"
POSTS_ONLY = {"thresholds": {"negative-posts": crisis.PRESET_THRESHOLDS["negative-posts"]}}


def counts(scope: str = DOUYIN, **hours_ago: tuple[int, int]) -> ScopeCounts:
    """Counters by hours ago: counts(h0=(50, 50), h3=(2, 9)) -> (negative, total) in this hour and 3 hours ago."""
    return ScopeCounts(scope, hours=MappingProxyType({
        HOUR - timedelta(hours=int(name[1:])): value for name, value in hours_ago.items()}))


def alert(level: str, *, metric: str = "negative-posts", scope: str = DOUYIN, status: str = OPEN,
          respond_by=NOW + timedelta(hours=2), **changes) -> Alert:
    return Alert(alert_id="a1", brand_id="test-brand", metric=metric, measure="negativeCount", scope=scope,
                 level=level, status=status, value=26, threshold=25, opened_at=NOW - timedelta(hours=1),
                 raised_at=NOW - timedelta(hours=1), respond_by=respond_by, **changes)


def view(*alerts: Alert, **scopes: ScopeCounts) -> dict:
    by_scope = {DOUYIN: counts()} if not scopes else {s.scope: s for s in scopes.values()}
    return {"alerts": AlertsView(MappingProxyType({(a.metric, a.scope): a for a in alerts}), by_scope)}


def post(case: PluginCase, extras: dict | None, **detail):
    body = {"feedbackId": "f1", "channel": "douyin", "kind": "review", "rating": 1, **detail}
    return case.run("feedback.received", {k: v for k, v in body.items() if v is not None}, extras=extras)


def raised(result) -> list[RaiseAlert]:
    return [e for e in result.effects if isinstance(e, RaiseAlert)]


@pytest.mark.parametrize("detail, negative", [
    ({"kind": "complaint", "rating": None}, True),
    ({"rating": 2}, True),
    ({"rating": 3}, False),
    ({"kind": "chat", "rating": None, "sentiment": -0.31}, True),
    ({"kind": "chat", "rating": None, "sentiment": -0.3}, False),
    ({"rating": None}, False),
])
def test_what_counts_as_negative_under_the_presets(detail, negative):
    result = post(PluginCase(crisis), view(), **detail)
    (count,) = [e for e in result.effects if isinstance(e, CountFeedback)]
    assert (count.negative, count.scopes, count.hour) == (negative, (DOUYIN,), HOUR)


def test_the_51st_negative_post_in_24_hours_raises_the_open_yellow_alert_to_red_with_a_4_hour_deadline():
    case = PluginCase(crisis, params={**POSTS_ONLY, "pauseCouponTemplatesOnRed": ["T-FLASH"]})
    # 50 already counted: 40 in this hour, 10 twenty-three hours ago (still in the 24-hour window).
    extras = view(alert("yellow"), douyin=counts(h0=(40, 40), h23=(10, 10)))
    (red,) = raised(post(case, extras))
    assert (red.alert_id, red.from_level, red.level, red.value, red.threshold) == ("a1", "yellow", "red", 51, 50)
    assert red.respond_by == NOW + timedelta(hours=2)  # the yellow deadline was already sooner than red's 4 hours
    assert red.pause_coupon_templates == ("T-FLASH",)
    (emitted,) = [e for e in post(case, extras).effects if isinstance(e, BrandEmit)]
    assert (emitted.detail_type, emitted.detail["level"], emitted.detail["previousLevel"]) == (
        "alert.raised", "red", "yellow")

    far = view(alert("yellow", respond_by=NOW + timedelta(hours=40)), douyin=counts(h0=(50, 50)))
    assert raised(post(case, far))[0].respond_by == NOW + timedelta(hours=4)


def test_the_50th_does_not_and_an_alert_is_never_raised_to_the_level_it_has():
    case = PluginCase(crisis, params=POSTS_ONLY)
    assert raised(post(case, view(alert("yellow"), douyin=counts(h0=(49, 49))))) == []
    assert raised(post(case, view(alert("red"), douyin=counts(h0=(400, 400))))) == []
    # Posts 24 hours old have left the window: 10 + 40 + this one is 51 only if all are inside it.
    assert raised(post(case, view(alert("yellow"), douyin=counts(h0=(40, 40), h24=(10, 10))))) == []


def test_the_first_reading_past_a_level_opens_an_alert_at_the_most_severe_level_it_passes():
    (opened,) = raised(post(PluginCase(crisis, params=POSTS_ONLY), view(douyin=counts(h0=(60, 60)))))
    assert (opened.from_level, opened.level, opened.metric, opened.scope) == (None, "red", "negative-posts", DOUYIN)
    assert opened.respond_by == NOW + timedelta(hours=4)


def test_an_acknowledged_alert_raised_by_a_worse_reading_gets_the_new_levels_full_deadline():
    extras = view(alert("yellow", status=ACKNOWLEDGED), douyin=counts(h0=(50, 50)))
    (red,) = raised(post(PluginCase(crisis, params=POSTS_ONLY), extras))
    assert red.respond_by == NOW + timedelta(hours=4)


def test_a_service_dispute_has_2_hours_and_a_quality_complaint_48_whatever_the_level():
    case = PluginCase(crisis)
    service = view(**{"s": counts("topic:service"), "c": counts()})
    (dispute,) = raised(post(case, service, kind="complaint", rating=None, topic="service"))
    assert (dispute.metric, dispute.level, dispute.respond_by) == ("service-dispute", "yellow", NOW + timedelta(hours=2))
    quality = view(**{"q": counts("topic:quality"), "c": counts()})
    (complaint,) = raised(post(case, quality, kind="complaint", rating=None, topic="quality"))
    assert (complaint.metric, complaint.level, complaint.respond_by) == (
        "quality-complaint", "blue", NOW + timedelta(hours=48))
    # Every topic is watched for trending spikes; only service and quality have their own response times.
    packaging = view(**{"p": counts("topic:packaging"), "c": counts()})
    result = post(case, packaging, topic="Packaging")
    assert [e.scopes for e in result.effects if isinstance(e, CountFeedback)] == [(DOUYIN, "topic:packaging")]
    assert raised(result) == []


def test_a_spike_is_the_latest_hour_against_the_average_of_the_hours_before_it():
    case = PluginCase(crisis, params={"thresholds": {"trending": crisis.PRESET_THRESHOLDS["trending"]}})
    baseline = {f"h{h}": (2, 5) for h in range(1, 25)}  # 2 negatives an hour for the 24 hours before
    spike = view(topic=counts("topic:delivery", h0=(19, 19), **baseline))
    (yellow,) = raised(post(case, spike, topic="delivery"))
    assert (yellow.level, yellow.value, yellow.threshold) == ("yellow", 20, 6)  # 20 > 3 x 2, not > 10 x 2
    assert yellow.respond_by == NOW + timedelta(hours=6)
    quiet = view(topic=counts("topic:delivery", h0=(18, 18)))  # 19 with nothing before: under minCount 20
    assert raised(post(case, quiet, topic="delivery")) == []


def test_without_what_the_alerts_family_loads_the_plugin_does_nothing():
    assert post(PluginCase(crisis), None).effects == []


def _sweep(*alerts: Alert, at=NOW) -> list:
    context = RuleContext(brand=PluginCase(crisis).brand, params={}, now=at, member=None,
                          extras=view(*alerts))
    return list(crisis.siyu_alerts_due(SweepEvent("sweep-1", "alert-deadlines", at), context))


def test_the_sweep_escalates_each_open_alert_once_per_missed_deadline():
    late = alert("red", respond_by=NOW - timedelta(minutes=90))
    escalate, emitted = _sweep(late)
    assert isinstance(escalate, EscalateAlert) and escalate.respond_by == late.respond_by
    assert (emitted.detail_type, emitted.detail["minutesLate"]) == ("alert.escalated", 90)
    assert _sweep(replace(late, escalated_for=late.respond_by)) == []  # escalated for this deadline already
    assert _sweep(replace(late, status=ACKNOWLEDGED)) == []
    assert _sweep(alert("red", respond_by=NOW + timedelta(seconds=1))) == []


def test_levels_only_rise():
    with pytest.raises(ValueError, match="levels only rise"):
        RaiseAlert(alert_id="a1", metric="m", measure="negativeCount", scope=DOUYIN, level="yellow",
                   from_level="red", value=1, threshold=0, respond_by=NOW + timedelta(hours=1),
                   rule="r").check(brand=None, now=NOW, member=None)
