"""Event ids are the brand's: another brand's event with our id is its own event; our id reused with other content
is refused as ID_REUSED and kept; a rejected or failed event is kept once however often it is delivered."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.helpers import business_event, order_paid, register

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def kept(store, brand, event_id):
    return [p for p in store.problems(brand, first=200, after=None).items if p.event_id == event_id]


def other_brand(store, plugins) -> str:
    brand = f"r{uuid.uuid4().hex[:10]}"
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers", "points_expiry")}
    store.put_brand(BrandConfig(brand, "喜茶", BAIGUOYUAN_LADDER, plugins=enabled))
    return brand


def test_another_brands_event_with_the_same_id_is_not_a_duplicate_of_ours(engine, store, plugins, rules_brand):
    theirs = other_brand(store, plugins)
    ours_member, their_member = register(store, rules_brand, T), register(store, theirs, T)
    shared_id = "order-1001"  # two brand systems counting from the same number

    ours = engine.handle(business_event("order.paid", order_paid(rules_brand, ours_member, 10_000),
                                        event_id=shared_id, time=T))
    their = engine.handle(business_event("order.paid", order_paid(theirs, their_member, 20_000),
                                         event_id=shared_id, time=T))

    assert (ours.status, their.status) == ("applied", "applied")
    assert store.load_member(rules_brand, ours_member).points.balance == 100
    assert store.load_member(theirs, their_member).points.balance == 200


def test_an_id_reused_with_other_content_is_refused_as_id_reused_and_kept_once(engine, store, rules_brand):
    member = register(store, rules_brand, T)
    first = business_event("order.paid", order_paid(rules_brand, member, 10_000, order_id="o-1"), event_id="e-1",
                           time=T)
    reused = business_event("order.paid", order_paid(rules_brand, member, 99_900, order_id="o-2"), event_id="e-1",
                            time=T + timedelta(minutes=5))
    assert engine.handle(first).status == "applied"

    for _ in range(3):
        summary = engine.handle(reused)
        assert summary.status == "rejected" and summary.reason.startswith("ID_REUSED") and summary.field == "id"

    assert store.load_member(rules_brand, member).points.balance == 100  # the first stays, the second took nothing
    [problem] = kept(store, rules_brand, "e-1")
    assert problem.reason.startswith("ID_REUSED") and "99900" in problem.raw
    # The very same event again is an ordinary duplicate.
    assert engine.handle(first).status == "duplicate"


def test_a_rejected_event_delivered_three_times_is_kept_once(engine, store, rules_brand):
    bad = business_event("order.paid", {**order_paid(rules_brand, "m_x", 10_000), "amountFen": -5}, time=T)
    for _ in range(3):
        assert engine.handle(bad).status == "rejected"
    [problem] = kept(store, rules_brand, bad["id"])
    assert problem.field == "detail.amountFen"


def test_a_failed_event_delivered_three_times_is_kept_once(engine, store, rules_brand):
    member = register(store, rules_brand, T)
    # Paid membership until a date that cannot exist passes the schema and fails in the tiers plugin.
    failing = business_event("membership.paid", {"brandId": rules_brand, "memberId": member, "plan": "gold",
                                                 "validUntil": "2026-13-45T00:00:00Z"}, time=T)
    for _ in range(3):
        summary = engine.handle(failing)
        assert summary.status == "failed"
    [problem] = kept(store, rules_brand, failing["id"])
    assert problem.status == "failed" and problem.plugin == "tiers"
