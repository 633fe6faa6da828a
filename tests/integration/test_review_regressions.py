"""Bugs found in review, each kept fixed by the business rule it broke."""

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from events.handler import handler
from infra import runtime
from rules import points
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.effects import AwardPoints, Once
from rules.engine import Engine
from rules.errors import TooManyLots
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo, PluginRegistry
from rules.testing import PluginCase
from tests.helpers import business_event, call_graphql, earn, error_codes, order_paid, register, token

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def test_a_staff_member_cannot_simulate_another_brands_event_sent_as_a_string(rules_brand):
    event = json.dumps(business_event("order.paid", order_paid("another-brand", "m_1", 100)))
    _, body = call_graphql("mutation($e: JSON!) { simulateEvent(event: $e) { status effects } }", {"e": event},
                           token("staff", "s1", rules_brand))
    assert error_codes(body) == ["BAD_USER_INPUT"]


def test_redeeming_across_more_lots_than_one_write_holds_is_a_typed_refusal(store, brand_id):
    member = register(store, brand_id, T)
    for day in range(90):
        earn(store, brand_id, member, 5, T + timedelta(days=day, minutes=1), days=365)
    with pytest.raises(TooManyLots):
        points.redeem(store, brand_id, member, points=450, now=T + timedelta(days=91), idempotency_key="big")
    assert points.redeem(store, brand_id, member, points=300, now=T + timedelta(days=91),
                         idempotency_key="smaller").balance == 150


def test_two_earnings_at_once_cannot_both_repay_the_same_debt(store, plugins, rules_brand):
    engine = Engine(store, plugins)
    member = register(store, rules_brand, T)
    engine.handle(business_event("order.paid", order_paid(rules_brand, member, 10000, order_id="o1"), time=T))
    points.redeem(store, rules_brand, member, points=100, now=T, idempotency_key="spent")
    engine.handle(business_event("order.refunded", {"brandId": rules_brand, "memberId": member, "orderId": "o1",
                                                    "amountFen": 10000}, time=T))
    assert store.load_member(rules_brand, member).points.debt == 100

    def adjust(i):
        points.adjust(store, rules_brand, member, points=100, reason="goodwill", now=T, validity_days=30,
                      idempotency_key=f"goodwill-{i}")

    threads = [threading.Thread(target=adjust, args=(i,)) for i in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    state = store.load_member(rules_brand, member)
    assert state.points.debt == 0 and state.points.balance == 100
    assert state.points.balance == sum(e.points for e in store.entries(rules_brand, member))


def test_refunds_of_one_order_never_count_against_another_whose_id_extends_it():
    import plugins.points.plugin as points_plugin

    case = PluginCase(points_plugin)
    first = case.run("order.paid", order_paid("test-brand", "m_test", 10000, order_id="o1"))
    second = case.run("order.paid", order_paid("test-brand", "m_test", 5000, order_id="o1:2"), member=first.member)
    refunded = case.run("order.refunded", {"orderId": "o1:2", "amountFen": 5000}, member=second.member)
    partial = case.run("order.refunded", {"orderId": "o1", "amountFen": 1000}, member=refunded.member)
    assert partial.member.points.balance == 90


def test_rates_are_exact_decimals_so_rounding_never_costs_a_point():
    import plugins.points.plugin as points_plugin

    case = PluginCase(points_plugin, params={"tierMultipliers": {"PU": 1.15}})
    assert case.run("order.paid", order_paid("test-brand", "m_test", 6000)).points_awarded == 69
    case = PluginCase(points_plugin, params={"pointsPerYuan": 0.7})
    assert case.run("order.paid", order_paid("test-brand", "m_test", 11000)).points_awarded == 77


def test_a_malformed_effect_fails_its_event_by_plugin_name(store, bus):
    class Naive:
        @hookimpl
        def siyu_plugin_info(self):
            return PluginInfo("naive", "1.0.0")

        @hookimpl
        def siyu_member_checked_in(self, event, context):
            return [AwardPoints(points=5, expires_at=datetime(2030, 1, 1), reason="x", rule="naive-time"),
                    Once(key="naive:x", rule="r", data={"when": object()})]

    registry = PluginRegistry()
    registry.register(Naive())
    brand = "naive-" + datetime.now().strftime("%H%M%S%f")
    store.put_brand(BrandConfig(brand, "x", BAIGUOYUAN_LADDER, plugins={"naive": {}}))
    member = register(store, brand, T)
    summary = Engine(store, registry, bus).handle(
        business_event("member.checked_in", {"brandId": brand, "memberId": member}, time=T))
    assert (summary.status, summary.plugin) == ("failed", "naive") and "timezone" in summary.reason


def test_phone_numbers_in_a_rejected_event_are_masked_before_staff_can_read_them(store, rules_brand):
    event = business_event("member.registered", {"brandId": rules_brand, "memberId": "m1", "channel": "fax",
                                                 "phone": "13812345678"})
    assert handler(event)["status"] == "rejected"
    (problem,) = [p for p in store.problems(rules_brand, first=50, after=None).items if p.event_id == event["id"]]
    assert "13812345678" not in problem.raw and "138****5678" in problem.raw


def test_an_absurd_event_time_is_rejected_not_retried():
    event = business_event("member.checked_in", {"brandId": "b", "memberId": "m"})
    event["time"] = "0001-01-01T00:00:00+01:00"
    assert handler(event)["status"] == "rejected"


def test_an_overlong_reason_is_invalid_input_not_an_internal_error(store, brand_id):
    member = register(store, brand_id, T)
    earn(store, brand_id, member, 50, datetime.now(timezone.utc) - timedelta(days=1))
    query = 'mutation($r: String) { redeemPoints(input: {points: 5, idempotencyKey: "k", reason: $r}) { __typename ... on InvalidInput { field } } }'
    _, body = call_graphql(query, {"r": "x" * 420_000}, token("member", member, brand_id))
    assert body["data"]["redeemPoints"] == {"__typename": "InvalidInput", "field": "reason"}


def test_a_member_token_for_a_deleted_member_gets_a_typed_answer_when_redeeming(brand_id):
    query = 'mutation { redeemPoints(input: {points: 5, idempotencyKey: "k"}) { __typename } }'
    _, body = call_graphql(query, token=token("member", "m_gone", brand_id))
    assert body["data"]["redeemPoints"]["__typename"] == "MemberNotFound"


def test_configure_brand_saves_even_when_this_containers_cache_is_stale(store, plugins, rules_brand):
    from rules.brand_settings import configure_brand

    runtime.store().get_brand(rules_brand)  # cached here
    configure_brand(store, plugins, rules_brand, now=T, plugin_settings=[("points", True, {"checkInPoints": 7})])
    _, body = call_graphql('mutation { configureBrand(input: {plugins: [{name: "points", params: {checkInPoints: 9}}]}) { __typename } }',
                           token=token("staff", "s1", rules_brand))
    assert body["data"]["configureBrand"]["__typename"] == "BrandConfigured"
    assert store.get_brand(rules_brand, fresh=True).plugins["points"]["checkInPoints"] == 9
