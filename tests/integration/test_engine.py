"""The engine through the real store: 百果园's rules, exactly once, explained, and failing cleanly."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo


from infra.db import count_requests
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.effects import AwardPoints
from rules.engine import Engine
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo, PluginRegistry
from tests.helpers import business_event, order_paid, register, scheduled_event

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def standing(store, brand, member):
    state = store.load_member(brand, member)
    return state.points.balance, state.profile.growth, state.profile.tier_code


def test_a_new_member_who_pays_600_yuan_earns_600_points_and_becomes_silver_in_the_same_event(
        store, engine, bus, rules_brand):
    member = register(store, rules_brand, T)
    summary = engine.handle(business_event("order.paid", order_paid(rules_brand, member, 60000), time=T)).as_dict()
    assert summary["status"] == "applied"
    assert summary["plugins"] == {"points": 2, "tiers": 4}
    assert standing(store, rules_brand, member) == (600, 600, "YIN")
    assert [(f.detail_type, f.detail["from"], f.detail["to"]) for f in bus.published] == [("tier.changed", "PU", "YIN")]
    # Six calendar months, judged at the start of the day they end on (Shanghai): 1 September.
    assert store.load_member(rules_brand, member).profile.tier_valid_until == datetime(
        2026, 9, 1, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_member_with_499_growth_is_still_on_the_ordinary_card_and_the_next_yuan_makes_silver(
        store, engine, rules_brand):
    member = register(store, rules_brand, T)
    engine.handle(business_event("order.paid", order_paid(rules_brand, member, 49900), time=T))
    assert standing(store, rules_brand, member)[1:] == (499, "PU")
    engine.handle(business_event("order.paid", order_paid(rules_brand, member, 100), time=T + timedelta(hours=1)))
    assert standing(store, rules_brand, member)[1:] == (500, "YIN")


def test_a_redelivered_event_is_a_duplicate_and_changes_nothing(store, engine, bus, rules_brand):
    member = register(store, rules_brand, T)
    event = business_event("order.paid", order_paid(rules_brand, member, 60000), time=T)
    first = engine.handle(event).as_dict()
    again = engine.handle(event).as_dict()
    assert again["status"] == "duplicate" and again["effects"] == first["effects"]
    assert standing(store, rules_brand, member) == (600, 600, "YIN")
    assert len(store.entries(rules_brand, member)) == 1
    # The follow-up went out again with the same id, so a consumer sees it once.
    assert [f.id for f in bus.published] == first["followUps"] * 2


def test_the_same_order_announced_under_a_new_event_id_earns_nothing_more(store, engine, rules_brand):
    member = register(store, rules_brand, T)
    detail = order_paid(rules_brand, member, 30000, order_id="o-retried")
    engine.handle(business_event("order.paid", detail, time=T))
    resent = engine.handle(business_event("order.paid", detail, time=T + timedelta(minutes=2))).as_dict()
    assert resent["status"] == "applied" and resent["effects"] == []
    assert standing(store, rules_brand, member) == (300, 300, "PU")


def test_checking_in_twice_on_one_shanghai_day_earns_5_points_once(store, engine, rules_brand):
    member = register(store, rules_brand, T)
    check_in = {"brandId": rules_brand, "memberId": member}
    # 15:59 UTC is 23:59 in Shanghai; 16:01 UTC is already the next brand-local day.
    for at in (datetime(2026, 3, 1, 1, 0, tzinfo=timezone.utc), datetime(2026, 3, 1, 15, 59, tzinfo=timezone.utc),
               datetime(2026, 3, 1, 16, 1, tzinfo=timezone.utc)):
        engine.handle(business_event("member.checked_in", check_in, time=at))
    assert standing(store, rules_brand, member)[0] == 10


def test_every_ledger_entry_says_which_plugin_rule_and_inputs_decided_it(store, engine, rules_brand):
    member = register(store, rules_brand, T)
    engine.handle(business_event("order.paid", order_paid(rules_brand, member, 12990, order_id="o-12"), time=T))
    (entry,) = store.entries(rules_brand, member)
    assert entry.points == 129 and entry.actor == "plugin:points@1.0.0"
    assert entry.explanation["plugin"] == "points" and entry.explanation["version"] == "1.0.0"
    assert entry.explanation["rule"] == "points-per-yuan"
    assert entry.explanation["inputs"]["eligibleFen"] == 12990 and entry.explanation["inputs"]["orderId"] == "o-12"
    assert entry.event_id is not None


def test_an_order_costs_one_small_query_and_one_transaction_with_every_built_in_enabled(store, plugins, bus,
                                                                                        rules_brand):
    # Received as it happens (the receiving clock at the order's time), as in production: nothing it writes falls
    # due by then, so the brand's sweep watermark is not read (Engine._due_floor).
    engine = Engine(store, plugins, bus, clock=lambda: T + timedelta(seconds=5))
    member = register(store, rules_brand, T)
    store.get_brand(rules_brand)  # the per-container brand cache is warm
    with count_requests() as requests:
        summary = engine.handle(business_event("order.paid", order_paid(rules_brand, member, 250000), time=T))
    assert summary.status == "applied" and standing(store, rules_brand, member)[2] == "JIN"
    # The member's state, never the member's other orders; a new order's markers are not read at all: its item is
    # put only if it does not exist yet (README, "Benchmarks").
    assert dict(requests.by_operation) == {"Query": 1, "TransactWriteItems": 1}


class Exploding:
    @hookimpl
    def siyu_plugin_info(self):
        return PluginInfo("exploding", "0.1.0", {"type": "object"}, order=15)

    @hookimpl
    def siyu_order_paid(self, event, context):
        raise ZeroDivisionError("bad arithmetic in a partner rule")


def test_a_crashing_plugin_fails_its_event_by_name_writes_nothing_and_spares_other_brands(store, bus, rules_brand):
    from rules.engine import Engine

    registry = PluginRegistry()
    for module in ("plugins.points.plugin", "plugins.tiers.plugin", "plugins.expiry.plugin"):
        registry.register(__import__(module, fromlist=["_"]))
    registry.register(Exploding())
    engine = Engine(store, registry, bus)
    brand = store.get_brand(rules_brand)
    crashing = rules_brand + "c"
    store.put_brand(BrandConfig(crashing, "坏插件品牌", BAIGUOYUAN_LADDER,
                                plugins={**brand.plugins, "exploding": {}}))
    victim = register(store, crashing, T)
    bystander = register(store, rules_brand, T)

    failed = engine.handle(business_event("order.paid", order_paid(crashing, victim, 60000), time=T)).as_dict()
    assert failed["status"] == "failed" and failed["plugin"] == "exploding"
    assert "ZeroDivisionError" in failed["reason"]
    assert standing(store, crashing, victim) == (0, 0, "PU") and store.entries(crashing, victim) == []
    problems = store.problems(crashing, first=10, after=None).items
    assert [(p.status, p.plugin, p.event_id) for p in problems] == [("failed", "exploding", failed["eventId"])]

    fine = engine.handle(business_event("order.paid", order_paid(rules_brand, bystander, 60000), time=T))
    assert fine.status == "applied" and standing(store, rules_brand, bystander) == (600, 600, "YIN")


def test_events_for_an_unknown_brand_or_member_are_rejected_and_kept(store, engine, rules_brand):
    ghost = engine.handle(business_event("order.paid", order_paid("no-such-brand", "m_x", 100), time=T)).as_dict()
    assert (ghost["status"], ghost["field"]) == ("rejected", "detail.brandId")
    stranger = engine.handle(business_event("order.paid", order_paid(rules_brand, "m_nobody", 100), time=T)).as_dict()
    assert (stranger["status"], stranger["field"]) == ("rejected", "detail.memberId")
    assert stranger["eventId"] in [p.event_id for p in store.problems(rules_brand, first=50, after=None).items]
    assert ghost["eventId"] in [p.event_id for p in store.problems(None, first=100, after=None).items]


def test_the_daily_sweep_writes_off_expired_points_at_the_events_time(fresh_table, store, engine, bus, rules_brand):
    member = register(store, rules_brand, T)
    engine.handle(business_event("order.paid", order_paid(rules_brand, member, 10000), time=T))
    day_before = engine.handle(scheduled_event(T + timedelta(days=364))).as_dict()
    assert member not in str(day_before["effects"])
    sweep = scheduled_event(T + timedelta(days=365, hours=14))
    summary = engine.handle(sweep).as_dict()
    assert summary["status"] == "applied" and summary["plugins"].get("points_expiry") == 2
    assert standing(store, rules_brand, member)[0] == 0
    assert engine.handle(sweep).as_dict()["effects"] == []  # the same sweep delivered again changes nothing
    assert "points.expired" in [f.detail_type for f in bus.published]


def test_plugins_only_run_for_brands_that_enable_them(store, engine, plugins):
    brand = "only-tiers-" + T.strftime("%H%M%S%f")
    store.put_brand(BrandConfig(brand, "只有等级", BAIGUOYUAN_LADDER, plugins={"tiers": plugins.validate_params("tiers", {})}))
    member = register(store, brand, T)
    engine.handle(business_event("order.paid", order_paid(brand, member, 60000), time=T))
    assert standing(store, brand, member) == (0, 600, "YIN")


def test_a_plugin_returning_something_that_is_not_an_effect_fails_cleanly(store, bus, rules_brand):
    from rules.engine import Engine

    class Sloppy:
        @hookimpl
        def siyu_plugin_info(self):
            return PluginInfo("sloppy", "1.0.0")

        @hookimpl
        def siyu_member_checked_in(self, event, context):
            return [AwardPoints(points=-5, expires_at=context.now + timedelta(days=1), reason="x", rule="oops")]

    registry = PluginRegistry()
    registry.register(Sloppy())
    engine = Engine(store, registry, bus)
    brand = rules_brand + "s"
    store.put_brand(BrandConfig(brand, "x", BAIGUOYUAN_LADDER, plugins={"sloppy": {}}))
    member = register(store, brand, T)
    summary = engine.handle(business_event("member.checked_in", {"brandId": brand, "memberId": member}, time=T))
    assert summary.status == "failed" and summary.plugin == "sloppy" and "positive" in summary.reason
    assert standing(store, brand, member) == (0, 0, "PU")
