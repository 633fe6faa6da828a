"""Parsing EventBridge events: valid ones become typed events; bad ones are rejected naming the field."""

import json

import pytest

from rules.events import BusinessEvent, Ignored, Parsed, Rejected, SweepEvent, parse
from tests.helpers import business_event, scheduled_event

ORDER = {"brandId": "bgy", "memberId": "m_1", "orderId": "o-1", "amountFen": 12900, "channel": "miniprogram",
         "items": [{"sku": "apple", "category": "fruit", "quantity": 2, "amountFen": 12900}]}


def test_a_valid_order_becomes_a_typed_event_with_the_envelope_time():
    parsed = parse(business_event("order.paid", ORDER))
    assert isinstance(parsed, Parsed) and isinstance(parsed.event, BusinessEvent)
    assert parsed.event.member_id == "m_1" and parsed.event.get("amountFen") == 12900
    assert parsed.event.time.isoformat() == "2026-03-01T02:00:00+00:00"


def test_a_detail_type_siyu_does_not_handle_is_ignored():
    assert isinstance(parse(business_event("inventory.counted", {"brandId": "bgy"})), Ignored)


@pytest.mark.parametrize("change, field", [
    ({"memberId": None}, "detail.memberId"),
    ({"amountFen": "129.00"}, "detail.amountFen"),
    ({"amountFen": True}, "detail.amountFen"),
    ({"amountFen": 12.5}, "detail.amountFen"),
    ({"amountFen": -100}, "detail.amountFen"),
    ({"amountFen": 10**12}, "detail.amountFen"),
    ({"channel": "fax"}, "detail.channel"),
    ({"brandId": "b r a n d"}, "detail.brandId"),
    ({"items": [{"sku": "apple", "amountFen": -1}]}, "detail.items.0.amountFen"),
    ({"items": "apple"}, "detail.items"),
], ids=["missing-member", "amount-as-text", "amount-as-bool", "fractional-fen", "negative-amount", "absurd-amount",
        "unknown-channel", "bad-brand-id", "negative-item", "items-not-a-list"])
def test_malformed_orders_are_rejected_naming_the_field(change, field):
    detail = {**ORDER, **change}
    detail = {k: v for k, v in detail.items() if v is not None}
    rejected = parse(business_event("order.paid", detail))
    assert isinstance(rejected, Rejected)
    assert rejected.field == field, rejected.reason
    assert rejected.raw and json.loads(rejected.raw)["detail"] == detail


@pytest.mark.parametrize("envelope, field", [
    ({"id": ""}, "id"),
    ({"time": "yesterday"}, "time"),
    ({"time": "2026-03-01T02:00:00"}, "time"),
    ({"source": "aws.events"}, "source"),
    ({"detail": "order"}, "detail"),
], ids=["no-id", "unparseable-time", "time-without-zone", "wrong-source", "detail-not-object"])
def test_malformed_envelopes_are_rejected(envelope, field):
    raw = {**business_event("order.paid", ORDER), **envelope}
    rejected = parse(raw)
    assert isinstance(rejected, Rejected) and rejected.field == field


def test_an_oversized_event_is_rejected_but_kept_whole():
    raw = business_event("feedback.received", {"brandId": "bgy", "feedbackId": "f1", "channel": "weibo",
                                               "kind": "complaint", "text": "太慢了" * 100_000})
    rejected = parse(raw)
    assert isinstance(rejected, Rejected) and "larger than" in rejected.reason
    assert len(rejected.raw) > 256 * 1024


def test_garbage_is_rejected_not_raised():
    for garbage in ("not json", "[1, 2]", 42, None):
        assert isinstance(parse(garbage), Rejected)


def test_a_scheduled_event_is_a_sweep_at_the_events_time():
    from datetime import datetime, timezone

    at = datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    parsed = parse(scheduled_event(at, rule="siyu-prod-daily-sweep"))
    assert isinstance(parsed.event, SweepEvent)
    assert (parsed.event.sweep, parsed.event.time) == ("daily", at)
    assert parse(scheduled_event(at, rule="siyu-prod-alert-sweep")).event.sweep == "alert-deadlines"


def nested(lists: int) -> list:
    value: list = []
    for _ in range(lists - 1):
        value = [value]
    return value


def test_a_detail_nested_more_than_50_levels_is_rejected_at_the_level_where_it_goes_too_deep():
    # The detail is level 0, "junk" level 1: 50 lists inside one another reach level 50, one more than allowed.
    deep = parse(business_event("order.paid", {**ORDER, "junk": nested(50)}))
    assert isinstance(deep, Rejected)
    assert deep.reason == f"detail.junk{'.0' * 49} is nested more than 50 levels deep"
    assert deep.field == f"detail.junk{'.0' * 49}"
    fine = parse(business_event("order.paid", {**ORDER, "junk": nested(49)}))  # levels 0 to 49: 50 levels
    assert isinstance(fine, Parsed) and fine.event.get("junk") is not None


def test_an_envelope_too_deep_to_write_down_is_rejected_without_walking_it_again():
    deep = parse(business_event("order.paid", {**ORDER, "junk": nested(3_000)}))
    assert isinstance(deep, Rejected) and deep.reason == "the event is nested more than 50 levels deep"
    assert deep.event_id and deep.brand_id == "bgy" and len(deep.fingerprint) == 32
    assert deep.fingerprint == parse(business_event("order.paid", {**ORDER, "junk": nested(3_000)},
                                                    event_id=deep.event_id)).fingerprint
