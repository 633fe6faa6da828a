"""Any timestamp is not believed: an event further ahead of the receiving clock than SIYU_EVENT_MAX_SKEW_MINUTES,
or older than SIYU_EVENT_MAX_AGE_DAYS, is rejected with its reason and kept; a scheduled sweep dated ahead is not
run; absurd times never raise out of the handler; processed records outlive the oldest event accepted."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from events.handler import handler
from infra import keys, runtime
from infra.models import ProcessedItem
from rules.engine import Engine
from rules.time_sanity import TimeLimits
from tests.helpers import LambdaContext, business_event, earn, order_paid, register, scheduled_event

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # the receiving clock in these tests
PRODUCTION = TimeLimits(max_skew=timedelta(minutes=15), max_age=timedelta(days=30))


@pytest.fixture
def receiving(store, plugins, bus):
    """An engine whose receiving clock reads NOW, with the production defaults."""
    return Engine(store, plugins, bus, clock=lambda: NOW, limits=PRODUCTION)


def problems_of(store, brand, event_id):
    return [p for p in store.problems(brand, first=200, after=None).items if p.event_id == event_id]


@pytest.mark.parametrize("when, kept_reason", [
    (NOW + timedelta(minutes=16), "ahead of the receiving clock"),
    (NOW + timedelta(days=365 * 973), "ahead of the receiving clock"),  # 2999
    (NOW - timedelta(days=31), "old"),
    (datetime(1970, 1, 1, tzinfo=timezone.utc), "old"),
    (datetime(1, 1, 1, tzinfo=timezone.utc), "old"),
])
def test_an_order_dated_too_far_ahead_or_too_long_ago_is_rejected_and_kept(receiving, store, rules_brand, when,
                                                                             kept_reason):
    member = register(store, rules_brand, NOW)
    event = business_event("order.paid", order_paid(rules_brand, member, 10_000), time=when)
    for _ in range(3):
        summary = receiving.handle(event)
        assert summary.status == "rejected" and summary.field == "time" and kept_reason in summary.reason
    assert store.load_member(rules_brand, member).points.balance == 0
    [kept] = problems_of(store, rules_brand, event["id"])
    assert kept.reason == summary.reason and kept.status == "rejected"


@pytest.mark.parametrize("when", [NOW + timedelta(minutes=14), NOW - timedelta(days=29)])
def test_an_order_within_the_skew_and_the_age_is_applied(receiving, store, rules_brand, when):
    member = register(store, rules_brand, NOW - timedelta(days=60))
    summary = receiving.handle(business_event("order.paid", order_paid(rules_brand, member, 10_000), time=when))
    assert summary.status == "applied"
    assert store.load_member(rules_brand, member).points.balance == 100


def test_a_scheduled_sweep_dated_tomorrow_is_refused_and_writes_nothing_off(receiving, store, rules_brand):
    member = register(store, rules_brand, NOW)
    earn(store, rules_brand, member, 50, NOW - timedelta(days=10), days=10 + 0.5)  # valid until 12:00 today
    summary = receiving.handle(scheduled_event(NOW + timedelta(days=1)))
    assert summary.status == "rejected" and summary.field == "time"
    assert store.load_member(rules_brand, member).points.balance == 50


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "9999-12-31T23:59:59-08:00", "0001-01-01T00:00:00+08:00",
                                  "0001-01-01T00:00:00Z", "1970-01-01T00:00:00Z", "2999-01-01T00:00:00Z"])
@pytest.mark.parametrize("detail_type", ["order.paid", "feedback.received", "member.checked_in"])
def test_absurd_years_never_raise_even_when_the_settings_let_them_through(store, plugins, bus, rules_brand, when,
                                                                          detail_type):
    member = register(store, rules_brand, NOW)
    details = {"order.paid": order_paid(rules_brand, member, 10_000),
               "feedback.received": {"brandId": rules_brand, "feedbackId": "f1", "memberId": member,
                                     "channel": "app", "kind": "complaint", "rating": 1, "topic": "quality"},
               "member.checked_in": {"brandId": rules_brand, "memberId": member}}
    wide_open = Engine(store, plugins, bus, clock=lambda: NOW,
                       limits=TimeLimits(max_skew=timedelta(days=3_000_000), max_age=timedelta(days=3_000_000)))
    event = business_event(detail_type, details[detail_type])
    event["time"] = when
    for _ in range(2):
        summary = wide_open.handle(event)
        assert summary.status in {"applied", "duplicate", "ignored", "rejected", "failed"}
    if summary.status in {"rejected", "failed"}:
        assert len(problems_of(store, rules_brand, event["id"])) == 1
    if when == "9999-12-31T23:59:59Z" and detail_type == "order.paid":
        # Its points would expire after year 9999: the event fails, kept with the reason, and nothing is written.
        assert summary.status == "failed" and "OverflowError" in summary.reason
        assert store.load_member(rules_brand, member).points.balance == 0


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"])
def test_feedback_in_year_9999_reaches_no_crisis_counter_and_raises_nothing(store, plugins, bus, when):
    import uuid

    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig

    brand = f"c{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "喜茶", BAIGUOYUAN_LADDER,
                                plugins={"crisis": plugins.validate_params("crisis", {})}))
    wide_open = Engine(store, plugins, bus, clock=lambda: NOW,
                       limits=TimeLimits(max_skew=timedelta(days=3_000_000), max_age=timedelta(days=3_000_000)))
    for n in range(3):
        event = business_event("feedback.received", {"brandId": brand, "feedbackId": f"f{n}", "channel": "app",
                                                     "kind": "complaint", "rating": 1, "topic": "quality"})
        event["time"] = when
        for _ in range(2):
            summary = wide_open.handle(event)
            assert summary.status in {"applied", "duplicate", "rejected", "failed"}


def test_the_lambda_handler_uses_the_settings_and_its_own_clock(configure, rules_brand):
    configure(SIYU_EVENT_MAX_SKEW_MINUTES="15", SIYU_EVENT_MAX_AGE_DAYS="30")
    member = register(runtime.store(), rules_brand, NOW)
    now = datetime.now(timezone.utc)
    fine = handler(business_event("order.paid", order_paid(rules_brand, member, 10_000), time=now), LambdaContext())
    stale = handler(business_event("order.paid", order_paid(rules_brand, member, 10_000),
                                   time=now - timedelta(days=31)), LambdaContext())
    assert fine["status"] == "applied"
    assert stale["status"] == "rejected" and "SIYU_EVENT_MAX_AGE_DAYS" in stale["reason"]


def test_processed_records_outlive_the_oldest_event_accepted(configure, rules_brand):
    configure(SIYU_EVENT_MAX_AGE_DAYS="90")
    store = runtime.store()
    member = register(store, rules_brand, NOW)
    now = datetime.now(timezone.utc)
    event = business_event("order.paid", order_paid(rules_brand, member, 10_000), time=now - timedelta(days=89))
    assert handler(event, LambdaContext())["status"] == "applied"
    record = ProcessedItem.get(keys.event_pk(rules_brand, event["id"]), keys.PROCESSED)
    # Redelivered on the last day it is still accepted, it must still find its record.
    assert record.ttl > now - timedelta(days=89) + timedelta(days=90) + timedelta(hours=1)
