"""A catalogue of malformed envelopes, each delivered three times to the events Lambda: nothing escapes the handler,
every delivery ends applied, duplicate, ignored, rejected or failed, and each rejected or failed envelope is kept
exactly once, with its reason."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest

from events.handler import handler
from infra import runtime
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.helpers import LambdaContext, business_event, order_paid, scheduled_event

STATUSES = {"applied", "duplicate", "ignored", "rejected", "failed"}
BRAND = "catalogue"
MEMBER = "m_catalogue"
HUGE = "字" * 140_000  # 420 KB of UTF-8: more than an EventBridge event or a DynamoDB item holds


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def order(**changes) -> dict:
    detail = {**order_paid(BRAND, MEMBER, 12_900, order_id="o1"), **changes}
    return {k: v for k, v in detail.items() if v is not DROP}


def envelope(detail_type="order.paid", detail=None, **changes) -> dict:
    event = business_event(detail_type, order() if detail is None else detail, event_id=f"cat-{uuid.uuid4().hex}")
    event["time"] = now_iso()
    event.update(changes)
    return {k: v for k, v in event.items() if v is not DROP}


DROP = object()


def nested(depth: int):
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def feedback(**changes) -> dict:
    return {**{"brandId": BRAND, "feedbackId": "f1", "memberId": MEMBER, "channel": "app", "kind": "complaint",
               "rating": 2, "topic": "quality", "text": "不新鲜"}, **changes}


CATALOGUE = {
    # Not an envelope at all.
    "none": lambda: None,
    "empty string": lambda: "",
    "not json": lambda: "{order.paid",
    "a json array": lambda: "[1, 2]",
    "a number": lambda: 42,
    "a list": lambda: [envelope()],
    "an empty object": lambda: {},
    "a lone surrogate in raw json text": lambda: '{"id": "x\\ud800", "detail-type": "order.paid"}',
    # The envelope's own fields.
    "id is a number": lambda: envelope(id=5),
    "id is empty": lambda: envelope(id=""),
    "id is 200 characters": lambda: envelope(id="x" * 200),
    "id holds a lone surrogate": lambda: envelope(id="cat-\ud800"),
    "id is missing": lambda: envelope(id=DROP),
    "detail-type missing": lambda: envelope(**{"detail-type": DROP}),
    "detail-type is a number": lambda: envelope(**{"detail-type": 7}),
    "detail-type is empty": lambda: envelope(**{"detail-type": ""}),
    "detail-type unknown": lambda: envelope(detail_type="order.teleported"),
    "detail-type a lone surrogate": lambda: envelope(detail_type="order.paid\ud800"),
    "source not a siyu system": lambda: envelope(source="evil.corp"),
    "source is a list": lambda: envelope(source=["siyu.shop"]),
    "time missing": lambda: envelope(time=DROP),
    "time is a number": lambda: envelope(time=1772330400),
    "time is prose": lambda: envelope(time="yesterday"),
    "time without a zone": lambda: envelope(time="2026-03-01T02:00:00"),
    "time with an impossible zone": lambda: envelope(time="2026-03-01T02:00:00+25:00"),
    "time with an impossible date": lambda: envelope(time="2026-02-30T02:00:00Z"),
    "time in year 1": lambda: envelope(time="0001-01-01T00:00:00Z"),
    "time in year 1 east of utc": lambda: envelope(time="0001-01-01T00:00:00+08:00"),
    "time in 1970": lambda: envelope(time="1970-01-01T00:00:00Z"),
    "time in 2999": lambda: envelope(time="2999-01-01T00:00:00Z"),
    "time in 9999": lambda: envelope(time="9999-12-31T23:59:59Z"),
    "time in 9999 west of utc": lambda: envelope(time="9999-12-31T23:59:59-08:00"),
    # The detail's shape.
    "detail is a string": lambda: envelope(detail="order"),
    "detail is a list": lambda: envelope(detail=[order()]),
    "detail is null": lambda: {**envelope(), "detail": None},
    "detail missing": lambda: {k: v for k, v in envelope().items() if k != "detail"},
    "brandId missing": lambda: envelope(detail=order(brandId=DROP)),
    "brandId is a number": lambda: envelope(detail=order(brandId=7)),
    "brandId unknown": lambda: envelope(detail=order(brandId="no-such-brand")),
    "brandId a lone surrogate": lambda: envelope(detail=order(brandId="b\ud800")),
    "memberId unknown": lambda: envelope(detail=order(memberId="m_nobody")),
    "memberId a lone surrogate": lambda: envelope(detail=order(memberId="m\ud800")),
    "memberId is an object": lambda: envelope(detail=order(memberId={"id": MEMBER})),
    # Amounts.
    "amount negative": lambda: envelope(detail=order(amountFen=-1)),
    "amount huge": lambda: envelope(detail=order(amountFen=10**30)),
    "amount infinite": lambda: envelope(detail=order(amountFen=float("inf"))),
    "amount NaN": lambda: envelope(detail=order(amountFen=float("nan"))),
    "amount a bool": lambda: envelope(detail=order(amountFen=True)),
    "amount a string": lambda: envelope(detail=order(amountFen="12900")),
    "amount a fraction": lambda: envelope(detail=order(amountFen=129.5)),
    "amount missing": lambda: envelope(detail=order(amountFen=DROP)),
    "channel unknown": lambda: envelope(detail=order(channel="carrier-pigeon")),
    "orderId with spaces": lambda: envelope(detail=order(orderId="o 1 #2")),
    "orderId empty": lambda: envelope(detail=order(orderId="")),
    "items not a list": lambda: envelope(detail=order(items={"sku": "a"})),
    "items 501 of them": lambda: envelope(detail=order(items=[{"sku": "a", "amountFen": 1}] * 501)),
    "items nested junk": lambda: envelope(detail=order(items=[{"sku": {"a": [1, {"b": 2}]}, "amountFen": 1}])),
    "item quantity zero": lambda: envelope(detail=order(items=[{"sku": "a", "amountFen": 1, "quantity": 0}])),
    "couponIds numbers": lambda: envelope(detail=order(couponIds=[1, 2])),
    "a key that is a lone surrogate": lambda: envelope(detail=order(**{"\ud800": 1})),
    "junk nested 3,000 deep": lambda: envelope(detail=order(junk=nested(3_000))),
    "a 420 KB string in an extra field": lambda: envelope(detail=order(note=HUGE)),
    # Other event types.
    "refund without an order id": lambda: envelope("order.refunded", {"brandId": BRAND, "memberId": MEMBER,
                                                                     "amountFen": 100}),
    "refund of an order never seen": lambda: envelope("order.refunded", {"brandId": BRAND, "memberId": MEMBER,
                                                                        "orderId": "never", "amountFen": 100}),
    "engagement action shouting": lambda: envelope("member.engaged", {"brandId": BRAND, "memberId": MEMBER,
                                                                     "action": "SHARE!"}),
    "membership until an impossible date": lambda: envelope("membership.paid", {
        "brandId": BRAND, "memberId": MEMBER, "plan": "gold", "validUntil": "2026-13-45T00:00:00Z"}),
    "membership until year 9999": lambda: envelope("membership.paid", {
        "brandId": BRAND, "memberId": MEMBER, "plan": "gold", "validUntil": "9999-12-31T23:59:59+08:00"}),
    "feedback rating zero": lambda: envelope("feedback.received", feedback(rating=0)),
    "feedback sentiment NaN": lambda: envelope("feedback.received", feedback(sentiment=float("nan"))),
    "feedback text a lone surrogate": lambda: envelope("feedback.received", feedback(text="坏\ud800")),
    "feedback text 420 KB": lambda: envelope("feedback.received", feedback(text=HUGE)),
    "feedback kind unknown": lambda: envelope("feedback.received", feedback(kind="praise")),
    "referral code empty": lambda: envelope("referral.code_entered", {"brandId": BRAND, "memberId": MEMBER,
                                                                     "referralCode": ""}),
    "registration channel a number": lambda: envelope("member.registered", {"brandId": BRAND, "memberId": MEMBER,
                                                                           "channel": 3}),
    # Scheduled envelopes.
    "sweep from another source": lambda: {**scheduled_event(datetime.now(timezone.utc)), "source": "siyu.shop"},
    "sweep dated 2999": lambda: scheduled_event(datetime(2999, 1, 1, tzinfo=timezone.utc)),
    "sweep with a junk detail": lambda: {**scheduled_event(datetime.now(timezone.utc)), "detail": {"sweep": 5}},
    "sweep without a time": lambda: {k: v for k, v in scheduled_event(datetime.now(timezone.utc)).items()
                                     if k != "time"},
}


@pytest.fixture
def catalogue_brand(fresh_table, configure, plugins):
    configure()  # the Lambda's own engine, on this test's table
    store = runtime.store()
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers", "points_expiry", "crisis")}
    store.put_brand(BrandConfig(BRAND, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    from infra import keys
    from infra.models import MemberItem

    MemberItem(keys.member_pk(BRAND, MEMBER), keys.PROFILE, brand_id=BRAND, member_id=MEMBER,
               phone_hash="0" * 64, phone_masked="139****0000", channel="store", referral_code="CATALOG1",
               registered_at=datetime(2026, 1, 1, tzinfo=timezone.utc), tier_code="PU").save()
    return store


def all_problems(store):
    return [*store.problems(BRAND, first=1000, after=None).items, *store.problems(None, first=1000, after=None).items]


def test_the_catalogue_holds_at_least_50_malformed_envelopes():
    assert len(CATALOGUE) >= 50


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_a_malformed_envelope_never_escapes_and_is_kept_once_with_its_reason(catalogue_brand, name):
    store = catalogue_brand
    raw = CATALOGUE[name]()
    answers = [handler(raw, None) for _ in range(3)]

    assert all(answer["status"] in STATUSES for answer in answers), answers
    kept = all_problems(store)
    if answers[0]["status"] in {"rejected", "failed"}:
        assert [a["status"] for a in answers] == [answers[0]["status"]] * 3
        assert len(kept) == 1, [(p.event_id, p.reason) for p in kept]
        assert kept[0].reason == answers[0]["reason"] and kept[0].status == answers[0]["status"]
        if answers[0]["eventId"]:
            assert kept[0].event_id == answers[0]["eventId"]
    else:
        assert kept == [], [(p.event_id, p.reason) for p in kept]
        assert [a["status"] for a in answers[1:]] in (["duplicate", "duplicate"], [answers[0]["status"]] * 2)
