"""At-least-once, out-of-order delivery, and failures at every request: the end state is the clean run's."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings, strategies as st

from infra.db import client
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register

T0 = datetime(2026, 5, 1, 1, 0, tzinfo=timezone.utc)


def snapshot(store, brand, member):
    """Everything an event can change on a member, with ids that differ between runs left out."""
    state = store.load_member(brand, member)
    entries = store.entries(brand, member)
    return {
        "balance": state.points.balance,
        "growth": state.profile.growth,
        "tier": state.profile.tier_code,
        "entries": sorted((e.kind.value, e.points, e.reason) for e in entries),
        "markers": sorted(state.markers),
    }


@st.composite
def event_streams(draw):
    """A few business events over a few days; each template is turned into events for one member."""
    templates = []
    for index in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["order", "order", "check_in", "share", "review"]))
        at = T0 + timedelta(days=draw(st.integers(0, 2)), hours=draw(st.integers(0, 23)))
        amount = draw(st.integers(0, 300_000))
        templates.append((index, kind, at, amount))
    copies = [draw(st.integers(1, 3)) for _ in templates]
    deliveries = [t for t, n in zip(templates, copies) for _ in range(n)]
    return templates, draw(st.permutations(deliveries))


def as_event(template, brand, member, run):
    index, kind, at, amount = template
    event_id = f"{run}-{index}"
    if kind == "order":
        return business_event("order.paid", order_paid(brand, member, amount, order_id=f"o{index}"),
                              event_id=event_id, time=at)
    if kind == "check_in":
        return business_event("member.checked_in", {"brandId": brand, "memberId": member}, event_id=event_id, time=at)
    return business_event("member.engaged", {"brandId": brand, "memberId": member, "action": kind},
                          event_id=event_id, time=at)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(stream=event_streams())
def test_each_event_delivered_one_to_three_times_in_any_order_ends_as_each_delivered_once_in_order(
        store, engine, rules_brand, stream):
    templates, deliveries = stream
    clean_member, messy_member = register(store, rules_brand, T0), register(store, rules_brand, T0)
    clean_run, messy_run = uuid.uuid4().hex[:8], uuid.uuid4().hex[:8]
    for template in sorted(templates, key=lambda t: t[2]):
        engine.handle(as_event(template, rules_brand, clean_member, clean_run))
    statuses = [engine.handle(as_event(t, rules_brand, messy_member, messy_run)).status for t in deliveries]
    assert statuses.count("applied") == len(templates)
    assert statuses.count("duplicate") == len(deliveries) - len(templates)
    assert snapshot(store, rules_brand, messy_member) == snapshot(store, rules_brand, clean_member)


# ---- fault injection -------------------------------------------------------------------------------------------


class InjectFault:
    """Fail the n-th DynamoDB request (1-based) with the given error code, through botocore's own hooks."""

    def __init__(self, at: int, code: str) -> None:
        self.at, self.code, self.seen = at, code, 0

    def __call__(self, model, params, **kwargs):
        self.seen += 1
        if self.seen != self.at:
            return None
        error = {"Error": {"Code": self.code, "Message": "injected by the test"}}
        if self.code == "TransactionCanceledException":
            error["CancellationReasons"] = [{"Code": "TransactionConflict", "Message": "injected"}
                                            for _ in params.get("TransactItems", [])]
        raise ClientError(error, model.name)

    def __enter__(self):
        client().meta.events.register("before-call.dynamodb", self, unique_id="siyu-fault")
        return self

    def __exit__(self, *exc):
        client().meta.events.unregister("before-call.dynamodb", unique_id="siyu-fault")


ORDER_AMOUNT = 250_000  # crosses 银卡 and 金卡 in one order: points, growth, a tier and a follow-up


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException",
                                  "TransactionCanceledException", "InternalServerError"])
def test_a_failure_at_any_request_leaves_nothing_partial_and_redelivery_ends_like_the_clean_run(
        store, engine, bus, rules_brand, code):
    clean = register(store, rules_brand, T0)
    engine.handle(business_event("order.paid", order_paid(rules_brand, clean, ORDER_AMOUNT, order_id="o1"), time=T0))
    expected = snapshot(store, rules_brand, clean)

    store.forget_brands()
    with InjectFault(at=0, code=code) as counter:
        member = register(store, rules_brand, T0)
        counter.seen = 0
        engine.handle(business_event("order.paid", order_paid(rules_brand, member, 1), time=T0))
        requests = counter.seen
    assert requests >= 2  # a Query and a TransactWriteItems at least (plus the brand when the cache is cold)

    for at in range(1, requests + 2):
        store.forget_brands()
        member = register(store, rules_brand, T0)
        before = snapshot(store, rules_brand, member)
        event = business_event("order.paid", order_paid(rules_brand, member, ORDER_AMOUNT, order_id="o1"), time=T0)
        with InjectFault(at=at, code=code):
            try:
                outcome = engine.handle(event).status
            except Exception:  # noqa: BLE001 - an infrastructure error surfaces so Lambda retries
                outcome = "raised"
        if outcome == "raised":
            assert snapshot(store, rules_brand, member) == before, f"partial write after a fault at request {at}"
            assert store.get_event(rules_brand, event["id"]) is None
        redelivered = engine.handle(event).status
        assert redelivered == ("applied" if outcome == "raised" else "duplicate")
        assert snapshot(store, rules_brand, member) == expected


def test_a_lost_publish_after_the_commit_is_repaired_by_the_redelivery(store, plugins, rules_brand):
    class FlakyBus:
        def __init__(self):
            self.fail, self.published = True, []

        def publish(self, events):
            if self.fail:
                self.fail = False
                raise ConnectionError("EventBridge unreachable")
            self.published += list(events)

    bus = FlakyBus()
    engine = Engine(store, plugins, bus)
    member = register(store, rules_brand, T0)
    event = business_event("order.paid", order_paid(rules_brand, member, 60000), time=T0)
    with pytest.raises(ConnectionError):
        engine.handle(event)
    assert engine.handle(event).status == "duplicate"
    assert [(f.detail_type, f.detail["to"]) for f in bus.published] == [("tier.changed", "YIN")]
    assert store.load_member(rules_brand, member).points.balance == 600
