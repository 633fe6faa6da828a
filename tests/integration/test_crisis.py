"""Crisis alerts through the real engine and the embedded DynamoDB (DOMAIN.md 6; section 11 items 49 and 50)."""

from __future__ import annotations

import random
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from infra.db import count_requests
from plugins.crisis.plugin import PRESET_THRESHOLDS
from plugins.crisis import model as alerts
from plugins.coupons import model as coupons
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from plugins.coupons.model import CouponNotEligible
from rules.errors import Busy, WriteConflict
from tests.helpers import business_event, call_graphql, error_codes, register, scheduled_event, token

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)
ONLY_NEGATIVE_POSTS = {"negative-posts": PRESET_THRESHOLDS["negative-posts"]}


def crisis_brand(store, plugins, **params) -> str:
    """A brand of its own with `crisis` enabled: the presets, or these parameters."""
    brand = f"c{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "测试品牌", BAIGUOYUAN_LADDER,
                                plugins={"crisis": plugins.validate_params("crisis", params)}))
    return brand


def feedback(brand: str, *, at: datetime, channel: str = "douyin", kind: str = "review", rating: int | None = 1,
             topic: str | None = None, event_id: str | None = None, **extra) -> dict:
    """A negative post (a 1-star review on 抖音) unless told otherwise."""
    detail = {"brandId": brand, "feedbackId": uuid.uuid4().hex[:12], "channel": channel, "kind": kind, **extra}
    if rating is not None:
        detail["rating"] = rating
    if topic is not None:
        detail["topic"] = topic
    return business_event("feedback.received", detail, event_id=event_id, time=at, source="siyu.care")


def alert_sweep(at: datetime, event_id: str | None = None) -> dict:
    return scheduled_event(at, rule="siyu-test-alert-sweep", event_id=event_id)


def post(engine, brand: str, count: int, *, start: datetime, every: timedelta = timedelta(minutes=1), **kwargs):
    for i in range(count):
        summary = engine.handle(feedback(brand, at=start + every * i, **kwargs))
        assert summary.status == "applied", summary.reason


def the_alert(store, brand: str, metric: str) -> alerts.Alert:
    found = [a for a in store.open_alerts(brand) if a.metric == metric]
    assert len(found) == 1, found
    return found[0]


def follow_ups(bus, detail_type: str, brand: str) -> list:
    """Each follow-up once (a redelivery publishes the same id again, as it should)."""
    seen = {}
    for event in bus.published:
        if event.detail_type == detail_type and event.detail["brandId"] == brand:
            seen.setdefault(event.id, event)
    return list(seen.values())


# ---- DOMAIN 11 item 49: > 50 negative posts on one platform in 24 h is red; respond within 4 h ------------------


def test_the_51st_negative_post_on_one_channel_within_24_hours_turns_the_alert_red_and_the_50th_does_not(
        store, plugins, engine, bus):
    brand = crisis_brand(store, plugins)
    # 50 one-star posts on 抖音, one every 25 minutes: the last at 04:25 the next day.
    post(engine, brand, 50, start=T0, every=timedelta(minutes=25))
    post(engine, brand, 3, start=T0 + timedelta(hours=21), channel="weibo")  # another platform counts apart
    fifty = the_alert(store, brand, "negative-posts")
    assert (fifty.scope, fifty.level, fifty.value) == ("channel:douyin", "yellow", 26)  # the reading that raised it
    assert sum(t for _, t in store.feedback_counts(brand, "channel:douyin", hours=24).hours.values()) == 50

    at = T0 + timedelta(hours=23)  # 07:00 the next day: the first post is 23 hours old
    post(engine, brand, 1, start=at)

    red = the_alert(store, brand, "negative-posts")
    assert red.alert_id == fifty.alert_id  # raised, not a second alert
    assert (red.level, red.value, red.threshold, red.status) == ("red", 51, 50, alerts.OPEN)
    assert red.respond_by == at + timedelta(hours=4)  # the golden 4 hours
    assert [(c.action, c.level, c.value) for c in red.history] == [
        ("opened", "blue", 11), ("raised", "yellow", 26), ("raised", "red", 51)]
    raised = [e.detail for e in follow_ups(bus, "alert.raised", brand) if e.detail["metric"] == "negative-posts"]
    assert [(d["previousLevel"], d["level"]) for d in raised] == [(None, "blue"), ("blue", "yellow"), ("yellow", "red")]
    assert raised[-1]["respondBy"] == (at + timedelta(hours=4)).isoformat()
    # One alert per metric and scope: 抖音 also crossed the negative-share preset; 微博 crossed nothing.
    assert sorted((a.metric, a.scope) for a in store.open_alerts(brand)) == [
        ("negative-posts", "channel:douyin"), ("negative-share", "channel:douyin")]


def test_negative_posts_older_than_the_24_hour_window_no_longer_count(store, plugins, engine):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    post(engine, brand, 50, start=T0)  # all in the 08:00 hour
    post(engine, brand, 1, start=T0 + timedelta(hours=24))  # 08:00 the next day: day one's 08:00 hour has left
    alert = the_alert(store, brand, "negative-posts")
    assert alert.level == "yellow"
    counts = store.feedback_counts(brand, "channel:douyin", hours=48)
    assert sum(n for n, _ in counts.hours.values()) == 51 == sum(t for _, t in counts.hours.values())


def test_a_red_alert_left_unacknowledged_for_4_hours_is_escalated_once_by_the_sweep(store, plugins, engine, bus):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    post(engine, brand, 51, start=T0)
    red = the_alert(store, brand, "negative-posts")
    assert red.respond_by == T0 + timedelta(minutes=50, hours=4)

    # Sweeps see every brand's deadlines (other tests' too): what matters is what they did to this brand's alert.
    engine.handle(alert_sweep(red.respond_by - timedelta(minutes=1)))
    assert follow_ups(bus, "alert.escalated", brand) == []
    sweep = alert_sweep(red.respond_by, event_id=f"sweep-{brand}")
    assert engine.handle(sweep).status == "applied"
    engine.handle(sweep)  # EventBridge delivers the same sweep twice
    engine.handle(alert_sweep(red.respond_by + timedelta(hours=1)))

    escalated = follow_ups(bus, "alert.escalated", brand)
    assert [(e.detail["alertId"], e.detail["level"], e.detail["minutesLate"]) for e in escalated] == [
        (red.alert_id, "red", 0)]
    after = store.get_alert(brand, red.alert_id)
    assert (after.escalations, after.escalated_at, after.status) == (1, red.respond_by, alerts.OPEN)


def test_a_red_alert_acknowledged_within_the_golden_4_hours_is_never_escalated(store, plugins, engine, bus):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    post(engine, brand, 51, start=T0)
    red = the_alert(store, brand, "negative-posts")
    alerts.acknowledge(store, brand, red.alert_id, by="staff:duty-manager", now=red.respond_by - timedelta(hours=1))
    for hours in (0, 1, 24):
        engine.handle(alert_sweep(red.respond_by + timedelta(hours=hours)))
    assert follow_ups(bus, "alert.escalated", brand) == []
    assert store.get_alert(brand, red.alert_id).status == alerts.ACKNOWLEDGED


# ---- DOMAIN 11 item 50: quality complaint 48 h, service dispute 2 h, trending plan 6 h ---------------------------


def test_a_quality_complaint_must_be_answered_within_48_hours_and_a_service_dispute_within_2(
        store, plugins, engine, bus):
    brand = crisis_brand(store, plugins)
    complaint = {"kind": "complaint", "rating": None, "channel": "store"}
    post(engine, brand, 1, start=T0, topic="quality", **complaint)
    post(engine, brand, 1, start=T0, topic="Service", **complaint)
    quality = the_alert(store, brand, "quality-complaint")
    service = the_alert(store, brand, "service-dispute")
    assert (quality.scope, quality.level, quality.respond_by) == ("topic:quality", "blue", T0 + timedelta(hours=48))
    assert (service.scope, service.level, service.respond_by) == ("topic:service", "yellow", T0 + timedelta(hours=2))

    def escalated_by_sweep_at(at):
        engine.handle(alert_sweep(at))
        return [e.detail["metric"] for e in follow_ups(bus, "alert.escalated", brand)]

    assert escalated_by_sweep_at(T0 + timedelta(hours=2) - timedelta(seconds=1)) == []
    assert escalated_by_sweep_at(T0 + timedelta(hours=2)) == ["service-dispute"]
    assert escalated_by_sweep_at(T0 + timedelta(hours=47)) == ["service-dispute"]
    assert escalated_by_sweep_at(T0 + timedelta(hours=48)) == ["service-dispute", "quality-complaint"]


def test_a_trending_topic_spiking_against_its_baseline_needs_a_plan_within_6_hours(store, plugins, engine):
    brand = crisis_brand(store, plugins, thresholds={"trending": PRESET_THRESHOLDS["trending"]})
    # Baseline: 2 negatives an hour about delivery over the 24 hours before 08:00.
    post(engine, brand, 48, start=T0 - timedelta(hours=24), every=timedelta(minutes=30), topic="delivery")
    post(engine, brand, 19, start=T0, topic="delivery")  # 19 in the hour: under minCount (20)
    assert store.open_alerts(brand) == ()
    post(engine, brand, 1, start=T0 + timedelta(minutes=20), topic="delivery")  # 20 > 3 x 2: yellow
    trending = the_alert(store, brand, "trending")
    assert (trending.scope, trending.level, trending.value, trending.threshold) == ("topic:delivery", "yellow", 20, 6)
    assert trending.respond_by == T0 + timedelta(minutes=20, hours=6)  # the 6-hour plan, stricter than yellow's 48
    post(engine, brand, 1, start=T0 + timedelta(minutes=21), topic="delivery")  # 21 > 10 x 2: red
    trending = the_alert(store, brand, "trending")
    assert (trending.level, trending.value, trending.threshold) == ("red", 21, 20)
    assert trending.respond_by == T0 + timedelta(minutes=21, hours=4)  # red's golden window, sooner than 14:20


def test_community_message_volume_down_30_percent_on_the_day_before_raises_an_alert(store, plugins, engine):
    """DOMAIN 50: community message volume -30% -> alert (WeCom group messages, sent as `chat` feedback)."""
    brand = crisis_brand(store, plugins, thresholds={"community-volume": PRESET_THRESHOLDS["community-volume"]})
    day_before, yesterday = T0 - timedelta(hours=48), T0 - timedelta(hours=24)
    calm = {"channel": "wecom", "kind": "chat", "rating": None, "sentiment": 0.2}
    post(engine, brand, 100, start=day_before, every=timedelta(minutes=14), **calm)  # 100 in the 24 h before
    post(engine, brand, 71, start=yesterday, every=timedelta(minutes=20), **calm)  # then 71: -29%
    post(engine, brand, 1, start=T0 + timedelta(minutes=5), **calm)
    assert store.open_alerts(brand) == ()
    # Another brand's day: the same 100, then 70: -30% is reached.
    quiet = crisis_brand(store, plugins, thresholds={"community-volume": PRESET_THRESHOLDS["community-volume"]})
    post(engine, quiet, 100, start=day_before, every=timedelta(minutes=14), **calm)
    post(engine, quiet, 70, start=yesterday, every=timedelta(minutes=20), **calm)
    post(engine, quiet, 1, start=T0 + timedelta(minutes=5), **calm)
    drop = the_alert(store, quiet, "community-volume")
    assert (drop.scope, drop.level, drop.value, drop.threshold) == ("channel:wecom", "yellow", 0.3, 0.3)
    # Reviews on 抖音 are not community messages: the threshold names its channel.
    post(engine, quiet, 1, start=T0 + timedelta(minutes=6), channel="douyin", kind="review", rating=5)
    assert [a.scope for a in store.open_alerts(quiet)] == ["channel:wecom"]


def test_the_share_of_negative_feedback_counts_only_once_enough_feedback_arrived(store, plugins, engine):
    brand = crisis_brand(store, plugins, thresholds={"negative-share": PRESET_THRESHOLDS["negative-share"]})
    post(engine, brand, 30, start=T0, rating=5)
    post(engine, brand, 19, start=T0 + timedelta(minutes=30), rating=2)  # 19 of 49: under minTotal (50)
    assert store.open_alerts(brand) == ()
    post(engine, brand, 1, start=T0 + timedelta(minutes=50), kind="chat", rating=None, sentiment=-0.5)
    share = the_alert(store, brand, "negative-share")
    assert (share.level, share.value, share.threshold) == ("blue", 0.4, 0.3)  # 20 of 50


# ---- one alert per metric and scope; the workflow ---------------------------------------------------------------


def test_a_worse_reading_raises_the_acknowledged_alert_and_opens_it_again_with_the_new_deadline(
        store, plugins, engine):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    post(engine, brand, 26, start=T0)
    yellow = the_alert(store, brand, "negative-posts")
    alerts.acknowledge(store, brand, yellow.alert_id, by="staff:s1", now=T0 + timedelta(minutes=30))
    post(engine, brand, 25, start=T0 + timedelta(minutes=40))
    red = the_alert(store, brand, "negative-posts")
    assert (red.alert_id, red.level, red.status) == (yellow.alert_id, "red", alerts.OPEN)
    assert red.respond_by == T0 + timedelta(minutes=64, hours=4)
    assert [c.action for c in red.history] == ["opened", "raised", "acknowledged", "raised"]


def test_a_resolved_alert_is_closed_and_a_later_bad_reading_opens_a_new_one(store, plugins, engine):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    post(engine, brand, 11, start=T0)
    first = the_alert(store, brand, "negative-posts")
    resolved = alerts.resolve(store, brand, first.alert_id, by="staff:s1", now=T0 + timedelta(minutes=20))
    assert (resolved.status, resolved.resolved_by) == (alerts.RESOLVED, "staff:s1")
    assert store.open_alerts(brand) == ()
    with pytest.raises(alerts.AlertAlreadyResolved):
        alerts.acknowledge(store, brand, first.alert_id, by="staff:s2", now=T0 + timedelta(minutes=21))

    post(engine, brand, 1, start=T0 + timedelta(minutes=30))  # 12 in the window: still above blue
    second = the_alert(store, brand, "negative-posts")
    assert second.alert_id != first.alert_id and (second.level, second.value) == ("blue", 12)
    assert [a.alert_id for a in store.alerts(brand, None, first=10, after=None).items] == [
        second.alert_id, first.alert_id]


def test_a_red_alert_pauses_the_named_coupon_templates_until_it_is_resolved(store, plugins, engine):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS,
                         pauseCouponTemplatesOnRed=["T-FLASH-SALE", "T-NEW-MEMBER"])
    post(engine, brand, 26, start=T0)
    assert store.paused_coupon_templates(brand) == frozenset()  # yellow pauses nothing
    post(engine, brand, 25, start=T0 + timedelta(minutes=30))
    with count_requests() as requests:
        paused = store.paused_coupon_templates(brand)
    assert paused == frozenset({"T-FLASH-SALE", "T-NEW-MEMBER"})
    assert dict(requests.by_operation) == {"Query": 1}
    red = the_alert(store, brand, "negative-posts")
    assert red.pause_coupon_templates == ("T-FLASH-SALE", "T-NEW-MEMBER")
    alerts.acknowledge(store, brand, red.alert_id, by="staff:s1", now=T0 + timedelta(hours=1))
    assert store.paused_coupon_templates(brand) == paused  # acknowledged is not resolved
    assert store.paused_coupon_templates(crisis_brand(store, plugins)) == frozenset()
    alerts.resolve(store, brand, red.alert_id, by="staff:s1", now=T0 + timedelta(hours=2))
    assert store.paused_coupon_templates(brand) == frozenset()


def test_members_cannot_claim_a_paused_coupon_while_the_red_alert_is_unresolved(store, plugins, engine):
    brand = f"c{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    flash = {"id": "flash-10", "name": "闪购立减10元", "kind": "amount_off", "amountFen": 1000, "validDays": 7}
    configure_brand(store, plugins, brand, now=T0, plugin_settings=[
        ("coupons", True, {"templates": [flash]}),
        ("crisis", True, {"thresholds": ONLY_NEGATIVE_POSTS, "pauseCouponTemplatesOnRed": ["flash-10"]})])
    member = register(store, brand, T0)
    post(engine, brand, 51, start=T0)
    red = the_alert(store, brand, "negative-posts")
    with pytest.raises(CouponNotEligible) as refused:
        coupons.claim(store, store.get_brand(brand), member, "flash-10", T0 + timedelta(hours=1), request_id="r1")
    assert [r.code for r in refused.value.reasons] == ["PAUSED"]
    assert store.coupon_state(brand)[1] == frozenset({"flash-10"}) == store.paused_coupon_templates(brand)

    alerts.resolve(store, brand, red.alert_id, by="staff:s1", now=T0 + timedelta(hours=2))
    claimed = coupons.claim(store, store.get_brand(brand), member, "flash-10", T0 + timedelta(hours=3),
                            request_id="r2")
    assert claimed.template_id == "flash-10"
    assert store.coupon_state(brand)[1] == frozenset() == store.paused_coupon_templates(brand)


# ---- exactly once, whatever the delivery --------------------------------------------------------------------------


def test_a_burst_of_500_negative_posts_each_delivered_one_to_three_times_in_any_order(store, plugins, engine, bus):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    rng = random.Random(49)
    events = [feedback(brand, at=T0 + timedelta(seconds=10 * i), event_id=f"{brand}-{i}") for i in range(500)]
    deliveries = [event for event in events for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)

    statuses = Counter(engine.handle(event).status for event in deliveries)

    assert statuses == {"applied": 500, "duplicate": len(deliveries) - 500}
    (alert,) = store.open_alerts(brand)
    assert (alert.metric, alert.scope, alert.level, alert.value) == ("negative-posts", "channel:douyin", "red", 51)
    counts = store.feedback_counts(brand, "channel:douyin", hours=24)
    assert sum(n for n, _ in counts.hours.values()) == 500 == sum(t for _, t in counts.hours.values())
    assert [e.detail["level"] for e in follow_ups(bus, "alert.raised", brand)] == ["blue", "yellow", "red"]


def test_60_negative_posts_delivered_twice_on_8_threads_are_each_counted_once(store, plugins, bus):
    brand = crisis_brand(store, plugins, thresholds=ONLY_NEGATIVE_POSTS)
    engine = Engine(store, plugins, bus)
    events = [feedback(brand, at=T0 + timedelta(seconds=i), event_id=f"{brand}-{i}") for i in range(60)]
    deliveries = events * 2
    random.Random(50).shuffle(deliveries)

    def deliver(event):
        while True:  # as Lambda's retries do, in the rare case the engine gives up on a conflict
            try:
                return engine.handle(event).status
            except (Busy, WriteConflict):  # the engine answers Busy past its retry budget
                continue

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = Counter(pool.map(deliver, deliveries))

    assert statuses == {"applied": 60, "duplicate": 60}
    # No scope-wide lock: posts counted at the same instant may not see each other, so a level may be raised a
    # post or two after its crossing; but each level exactly once, in order, never below its crossing.
    (alert,) = store.open_alerts(brand)
    assert [c.level for c in alert.history] == ["blue", "yellow", "red"] and alert.level == "red"
    assert [c.value > limit for c, limit in zip(alert.history, (10, 25, 50))] == [True, True, True]
    counts = store.feedback_counts(brand, "channel:douyin", hours=24)
    assert sum(n for n, _ in counts.hours.values()) == 60 == sum(t for _, t in counts.hours.values())
    assert len(follow_ups(bus, "alert.raised", brand)) == 3


# ---- who sees what ------------------------------------------------------------------------------------------------


def test_a_members_complaint_is_counted_but_stays_out_of_their_own_activity(store, plugins, engine, bus):
    brand = crisis_brand(store, plugins)
    member = register(store, brand, T0 - timedelta(days=1))
    summary = engine.handle(feedback(brand, at=T0, kind="complaint", topic="service", memberId=member))
    assert {e["effect"] for e in summary.effects} == {"CountFeedback", "RaiseAlert", "BrandEmit"}
    assert store.activity(brand, member, first=10, after=None).items == []
    (raised,) = follow_ups(bus, "alert.raised", brand)
    assert "memberId" not in raised.detail


def test_counting_one_piece_of_feedback_costs_a_query_per_scope_one_for_the_alerts_and_one_transaction(
        fresh_table, store, plugins, engine):
    brand = crisis_brand(store, plugins)
    post(engine, brand, 1, start=T0, topic="quality")  # warms the brand cache
    with count_requests() as requests:
        post(engine, brand, 1, start=T0 + timedelta(minutes=1), topic="quality")
    # Channel 抖音 and topic quality: two scopes.
    assert dict(requests.by_operation) == {"Query": 3, "TransactWriteItems": 1}
    with count_requests() as requests:
        engine.handle(alert_sweep(T0 + timedelta(minutes=2)))
    assert dict(requests.by_operation) == {"Query": 1}  # nothing due anywhere: the due index says so


def _alerts_query(status: str = "ALL") -> str:
    return ("query { alerts(status: %s) { edges { cursor node { id level status channel scope scopeKind measureKind "
            "respondBy acknowledgedBy history { action kind level } } } pageInfo { hasNextPage } } }" % status)


ACKNOWLEDGE = ("mutation($id: ID!) { acknowledgeAlert(id: $id) { __typename ... on AlertAcknowledged { alert "
               "{ id status acknowledgedBy } } ... on BusinessError { code message } ... on AlertNotFound { alertId } } }")
RESOLVE = ("mutation($id: ID!) { resolveAlert(id: $id) { __typename ... on AlertResolved { alert { status } } "
           "... on AlertAlreadyResolved { alertId resolvedAt } ... on BusinessError { code } } }")


def test_staff_see_acknowledge_and_resolve_their_own_brands_alerts_and_no_one_elses(store, plugins):
    brand, other = crisis_brand(store, plugins), crisis_brand(store, plugins)
    engine = Engine(store, plugins)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    post(engine, brand, 26, start=now - timedelta(minutes=30))
    staff, outsider = token("staff", "s1", brand), token("staff", "s9", other)
    member = token("member", register(store, brand, now), brand)

    _, body = call_graphql(_alerts_query("OPEN"), token=staff)
    edges = body["data"]["alerts"]["edges"]
    assert [(e["node"]["level"], e["node"]["channel"]) for e in edges] == [("YELLOW", "douyin")]
    assert (edges[0]["node"]["scopeKind"], edges[0]["node"]["measureKind"]) == ("CHANNEL", "NEGATIVE_COUNT")
    alert_id = edges[0]["node"]["id"]

    _, body = call_graphql(_alerts_query(), token=outsider)
    assert body["data"]["alerts"]["edges"] == []
    _, theirs = call_graphql(ACKNOWLEDGE, {"id": alert_id}, token=outsider)
    _, made_up = call_graphql(ACKNOWLEDGE, {"id": "20260601T080000.000000Z-0000000000"}, token=outsider)
    assert theirs["data"]["acknowledgeAlert"]["__typename"] == "AlertNotFound"
    # Not found, and worded exactly as for an id that exists nowhere: nothing about the other brand leaks.
    assert theirs["data"]["acknowledgeAlert"]["message"].replace(alert_id, "X") == \
        made_up["data"]["acknowledgeAlert"]["message"].replace("20260601T080000.000000Z-0000000000", "X")
    _, body = call_graphql(ACKNOWLEDGE, {"id": alert_id}, token=member)
    assert error_codes(body) == ["FORBIDDEN"] and body["data"] is None
    _, body = call_graphql(_alerts_query(), token=member)
    assert error_codes(body) == ["FORBIDDEN"]
    assert store.get_alert(brand, alert_id).status == alerts.OPEN

    _, body = call_graphql(ACKNOWLEDGE, {"id": alert_id}, token=staff)
    assert body["data"]["acknowledgeAlert"] == {"__typename": "AlertAcknowledged", "alert": {
        "id": alert_id, "status": "ACKNOWLEDGED", "acknowledgedBy": "staff:s1"}}
    _, body = call_graphql(_alerts_query("OPEN"), token=staff)
    assert body["data"]["alerts"]["edges"] == []
    _, body = call_graphql(_alerts_query("ACKNOWLEDGED"), token=staff)
    assert [e["node"]["id"] for e in body["data"]["alerts"]["edges"]] == [alert_id]

    _, body = call_graphql(RESOLVE, {"id": alert_id}, token=outsider)
    assert body["data"]["resolveAlert"] == {"__typename": "AlertNotFound", "code": "ALERT_NOT_FOUND"}
    _, body = call_graphql(RESOLVE, {"id": alert_id}, token=staff)
    assert body["data"]["resolveAlert"] == {"__typename": "AlertResolved", "alert": {"status": "RESOLVED"}}
    _, body = call_graphql(RESOLVE, {"id": alert_id}, token=staff)
    assert body["data"]["resolveAlert"]["__typename"] == "AlertAlreadyResolved"
    assert body["data"]["resolveAlert"]["alertId"] == alert_id
    _, body = call_graphql(_alerts_query("RESOLVED"), token=staff)
    (edge,) = body["data"]["alerts"]["edges"]
    assert [h["action"] for h in edge["node"]["history"]] == ["opened", "raised", "acknowledged", "resolved"]
    assert [h["kind"] for h in edge["node"]["history"]] == ["OPENED", "RAISED", "ACKNOWLEDGED", "RESOLVED"]


def test_alerts_page_newest_first_with_a_cursor(store, plugins):
    brand = crisis_brand(store, plugins)
    engine = Engine(store, plugins)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    for i, topic in enumerate(("service", "quality", "service")):  # one service dispute, one quality complaint
        post(engine, brand, 1, start=now - timedelta(minutes=10 - i), kind="complaint", rating=None, topic=topic)
    staff = token("staff", "s1", brand)
    query = "query($after: String) { alerts(first: 1, after: $after) { edges { cursor node { topic } } " \
            "pageInfo { hasNextPage endCursor } } }"
    _, first = call_graphql(query, token=staff)
    _, second = call_graphql(query, {"after": first["data"]["alerts"]["pageInfo"]["endCursor"]}, token=staff)
    assert [e["node"]["topic"] for e in first["data"]["alerts"]["edges"]] == ["quality"]
    assert first["data"]["alerts"]["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["topic"] for e in second["data"]["alerts"]["edges"]] == ["service"]
    assert second["data"]["alerts"]["pageInfo"]["hasNextPage"] is False
    _, bad = call_graphql(query, {"after": "bm90IGEgY3Vyc29y"}, token=staff)
    assert error_codes(bad) == ["BAD_USER_INPUT"]


# ---- review regressions -----------------------------------------------------------------------------------------


def test_two_alerts_turning_red_in_one_event_both_hold_the_paused_coupon_template(store, plugins, engine):
    thresholds = {"negative-posts": PRESET_THRESHOLDS["negative-posts"],
                  "quality-complaint": PRESET_THRESHOLDS["quality-complaint"]}
    brand = crisis_brand(store, plugins, thresholds=thresholds, pauseCouponTemplatesOnRed=["T1"])
    post(engine, brand, 50, start=T0, topic="quality")
    summary = engine.handle(feedback(brand, at=T0 + timedelta(hours=1), topic="quality"))
    assert summary.status == "applied", summary.reason
    assert sorted(a.level for a in store.open_alerts(brand)) == ["red", "red"]
    assert store.coupon_state(brand)[1] == frozenset({"T1"})


def test_a_late_post_that_raises_an_already_escalated_alert_gets_a_deadline_of_its_own(store, plugins, engine, bus):
    thresholds = {"neg": {"measure": "negativeCount", "scope": "channel", "windowHours": 24,
                          "levels": {"yellow": 0, "red": 2}}}
    brand = crisis_brand(store, plugins, thresholds=thresholds)
    post(engine, brand, 1, start=T0)  # yellow, respond by T0 + 48 h
    post(engine, brand, 2, start=T0 + timedelta(hours=46))  # 2 in the window: still yellow
    engine.handle(alert_sweep(T0 + timedelta(hours=48)))  # the yellow deadline is missed: escalated
    # A post made at T0 + 47 h arrives after that sweep: 3 in the window, red.
    assert engine.handle(feedback(brand, at=T0 + timedelta(hours=47))).status == "applied"
    red = the_alert(store, brand, "neg")
    assert (red.level, red.respond_by) == ("red", T0 + timedelta(hours=51))
    engine.handle(alert_sweep(T0 + timedelta(hours=52)))
    assert [e.detail["level"] for e in follow_ups(bus, "alert.escalated", brand)] == ["yellow", "red"]


def test_16_workers_counting_one_channel_at_once_never_give_up_and_lose_no_count(store, plugins, bus):
    # No item every post of a channel must condition on: counters are sharded, so concurrent posts do not make
    # each other re-read until the engine gives up (Busy), and none of their counts is lost.
    brand = crisis_brand(store, plugins)
    engine = Engine(store, plugins, bus)
    events = [feedback(brand, at=T0 + timedelta(seconds=i), rating=1 if i % 3 else 5, topic="quality",
                       event_id=f"{brand}-{i}") for i in range(48)]

    def deliver(event):
        try:
            return engine.handle(event).status
        except Busy:
            return "busy"

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = Counter(pool.map(deliver, events))

    assert statuses == {"applied": 48}
    for scope in ("channel:douyin", "topic:quality"):
        counts = store.feedback_counts(brand, scope, hours=24)
        assert (sum(n for n, _ in counts.hours.values()), sum(t for _, t in counts.hours.values())) == (32, 48)
    # Posts counted at the same instant may each have read the others' counts a little short; the next reading
    # of the channel sees them all.
    post(engine, brand, 1, start=T0 + timedelta(minutes=5), rating=5, topic="quality")
    levels = {(a.metric, a.scope): a.level for a in store.open_alerts(brand)}
    assert levels[("negative-posts", "channel:douyin")] == "yellow"  # 32 negatives: over 25, not over 50
    assert levels[("quality-complaint", "topic:quality")] == "yellow"  # over 10, not over 50
