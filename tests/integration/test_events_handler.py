"""`events.handler.handler`, as Lambda calls it: the CONTRACT.md summary for every kind of outcome."""

from datetime import datetime, timezone

from events.handler import handler
from infra import runtime
from tests.helpers import LambdaContext, business_event, order_paid, register, scheduled_event

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def test_the_handler_answers_applied_duplicate_ignored_and_rejected(rules_brand):
    member = register(runtime.store(), rules_brand, T)
    event = business_event("order.paid", order_paid(rules_brand, member, 12900), time=T)
    applied = handler(event, LambdaContext())
    assert applied["eventId"] == event["id"] and applied["status"] == "applied"
    assert applied["plugins"] == {"points": 2, "tiers": 2}
    assert {e["plugin"] for e in applied["effects"]} == {"points", "tiers"}
    assert all({"plugin", "version", "rule", "inputs", "effect"} <= set(e) for e in applied["effects"])
    assert handler(event, LambdaContext())["status"] == "duplicate"
    assert handler(business_event("stock.counted", {"brandId": rules_brand}), LambdaContext())["status"] == "ignored"
    rejected = handler(business_event("order.paid", {"brandId": rules_brand, "amountFen": -1}), LambdaContext())
    assert rejected["status"] == "rejected" and rejected["field"].startswith("detail.")


def test_a_scheduled_event_reaches_the_sweep(fresh_table, rules_brand):
    summary = handler(scheduled_event(T, rule="siyu-test-daily-sweep"), LambdaContext())
    assert summary["status"] == "applied" and summary["detailType"] == "Scheduled Event" and "members" in summary
