"""`notification.requested` goes out only for members whose newest marketing consent grants it, whichever plugin
asks; a suppressed request stays in the event's record with the reason."""

from datetime import datetime, timedelta, timezone

import pytest

from infra.db import count_requests
from rules import consent
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.effects import Emit
from rules.engine import Engine
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo, PluginRegistry
from rules import testing
from tests.helpers import business_event, order_paid, register, scheduled_event

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


class ThankYou:
    """A partner rule that asks for a notification after every order (and, carelessly, for feedback too)."""

    @hookimpl
    def siyu_plugin_info(self):
        return PluginInfo("thank_you", "1.0.0", {"type": "object", "properties": {
            "sendTo": {"type": "string", "default": ""}}})

    @hookimpl
    def siyu_order_paid(self, event, context):
        detail = {"kind": "order_thanks", "orderId": event.get("orderId")}
        if context.params["sendTo"]:
            detail["memberId"] = context.params["sendTo"]
        yield Emit(detail_type="notification.requested", rule="thank-for-order",
                   inputs={"orderId": event.get("orderId")}, detail=detail)

    @hookimpl
    def siyu_feedback_received(self, event, context):
        yield Emit(detail_type="notification.requested", rule="thank-for-feedback", detail={"kind": "feedback"})


@pytest.fixture
def partner(store, plugins, bus):
    registry = PluginRegistry()
    for module in ("plugins.points.plugin", "plugins.tiers.plugin", "plugins.expiry.plugin"):
        registry.register(__import__(module, fromlist=["_"]))
    registry.register(ThankYou())

    def make(brand_id, **params):
        brand_id += "-partner"
        enabled = {name: registry.validate_params(name, {}) for name in ("points", "tiers", "points_expiry")}
        enabled["thank_you"] = registry.validate_params("thank_you", params)
        store.put_brand(BrandConfig(brand_id, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
        return Engine(store, registry, bus), brand_id

    return make


def agree(store, brand, member, granted, at=T - timedelta(days=1)):
    consent.set_consent(store, brand, member, purpose="marketing_messages", granted=granted, policy_version="v1",
                        now=at, actor=f"member:{member}")


def notifications(bus):
    return [f for f in bus.published if f.detail_type == "notification.requested"]


def suppressed(summary):
    return [e.get("suppressed") for e in summary.as_dict()["effects"] if e.get("detail_type") == "notification.requested"]


def test_a_member_who_never_consented_gets_no_notification_and_the_record_says_why(store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id)
    member = register(store, brand_id, T)
    summary = engine.handle(business_event("order.paid", order_paid(brand_id, member, 10000, order_id="o-1"), time=T))
    assert summary.status == "applied" and store.load_member(brand_id, member).points.balance == 100
    assert notifications(bus) == []
    assert suppressed(summary) == ["notification suppressed: no marketing consent"]
    # Kept where staff and the member look: the processed record and the member's activity.
    # (Redelivered as it was: the same id with other content would be refused as ID_REUSED.)
    assert suppressed(engine.handle(business_event("order.paid", order_paid(brand_id, member, 10000, order_id="o-1"),
                                                   time=T, event_id=summary.event_id))) == suppressed(summary)
    (activity,) = store.activity(brand_id, member, first=5, after=None).items
    assert [e["suppressed"] for e in activity.effects if "suppressed" in e] == [
        "notification suppressed: no marketing consent"]


def test_a_member_who_consented_gets_the_notification(store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id)
    member = register(store, brand_id, T)
    agree(store, brand_id, member, True)
    summary = engine.handle(business_event("order.paid", order_paid(brand_id, member, 10000, order_id="o-2"), time=T))
    (sent,) = notifications(bus)
    assert sent.detail["memberId"] == member and sent.detail["kind"] == "order_thanks"
    assert sent.detail["orderId"] == "o-2" and sent.id in summary.follow_ups
    assert suppressed(summary) == [None]


def test_a_withdrawal_after_a_grant_stops_notifications(store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id)
    member = register(store, brand_id, T)
    agree(store, brand_id, member, True, at=T - timedelta(days=30))
    agree(store, brand_id, member, False, at=T - timedelta(days=2))
    summary = engine.handle(business_event("order.paid", order_paid(brand_id, member, 10000), time=T))
    assert notifications(bus) == []
    assert suppressed(summary) == ["notification suppressed: marketing consent withdrawn"]


def test_a_plugin_cannot_send_a_consenting_members_event_to_someone_else(store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id, sendTo="m_someone_else")
    member = register(store, brand_id, T)
    agree(store, brand_id, member, True)
    summary = engine.handle(business_event("order.paid", order_paid(brand_id, member, 10000), time=T))
    assert notifications(bus) == []
    assert suppressed(summary) == ["notification suppressed: it names another member than the event's"]


def test_an_event_without_a_member_cannot_notify_anyone(store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id)
    summary = engine.handle(business_event("feedback.received", {
        "brandId": brand_id, "feedbackId": "f-1", "channel": "wecom", "kind": "review"}, time=T))
    assert notifications(bus) == []
    assert suppressed(summary) == ["notification suppressed: no member whose consent could be checked"]


def test_the_dry_run_shows_the_suppression_too(store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id)
    member = register(store, brand_id, T)
    dry = engine.simulate(business_event("order.paid", order_paid(brand_id, member, 10000), time=T))
    assert dry.status == "simulated" and dry.follow_ups == []
    assert suppressed(dry) == ["notification suppressed: no marketing consent"]


def test_the_expiry_reminder_notifies_only_members_who_consented(fresh_table, store, plugins, bus):
    from rules.brand_settings import configure_brand

    brand = "bgy-remind"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=T, plugin_settings=[(n, True, {}) for n in ("points", "points_expiry")])
    engine = Engine(store, plugins, bus)
    willing, unasked = register(store, brand, T), register(store, brand, T)
    agree(store, brand, willing, True)
    for member in (willing, unasked):
        engine.handle(business_event("order.paid", order_paid(brand, member, 30000), time=T))
    sweep = engine.handle(scheduled_event(T + timedelta(days=335, hours=1))).as_dict()

    assert sorted(f.detail["memberId"] for f in bus.published if f.detail_type == "points.expiring") == sorted(
        [willing, unasked])
    (sent,) = notifications(bus)
    assert sent.detail["memberId"] == willing
    assert (sent.detail["kind"], sent.detail["points"], sent.detail["expiresOn"]) == (
        "points_expiring", 300, "2027-03-01")
    refused = [e for e in sweep["effects"] if e.get("suppressed")]
    assert [(e["plugin"], e["rule"], e["suppressed"]) for e in refused] == [
        ("points_expiry", "remind-before-expiry", "notification suppressed: no marketing consent")]


def test_an_order_with_consent_records_and_a_notifying_rule_is_still_one_query_and_one_transaction(
        store, bus, partner, brand_id):
    engine, brand_id = partner(brand_id)
    member = register(store, brand_id, T)
    for days, granted in ((9, True), (5, False), (1, True)):
        agree(store, brand_id, member, granted, at=T - timedelta(days=days))
    store.get_brand(brand_id)  # the per-container brand cache is warm
    # Received as it happens, as in production: nothing it writes falls due by then (Engine._due_floor).
    engine._clock = lambda: T + timedelta(seconds=5)
    with count_requests() as requests:
        summary = engine.handle(business_event("order.paid", order_paid(brand_id, member, 250000), time=T))
    assert summary.status == "applied" and len(notifications(bus)) == 1
    # The member's state (consents included; a new order's markers are not read); one transaction.
    assert dict(requests.by_operation) == {"Query": 1, "TransactWriteItems": 1}


def test_plugin_authors_test_notifications_with_a_consenting_member_in_a_few_lines():
    case = testing.PluginCase(ThankYou())
    without = case.run("order.paid", {"orderId": "o-1", "amountFen": 100, "channel": "h5"})
    assert without.follow_ups == () and without.explained()[0]["suppressed"]
    willing = testing.member(brand_id=case.brand.brand_id, consents={"marketing_messages": True})
    (follow_up,) = case.run("order.paid", {"orderId": "o-1", "amountFen": 100, "channel": "h5"},
                            member=willing).follow_ups
    assert follow_up.detail_type == "notification.requested" and follow_up.detail["memberId"] == "m_test"
