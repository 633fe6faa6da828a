"""Referrals and commissions (DOMAIN.md 4.1, 4.3; items 25, 26, 30), through the real engine and store."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from rules.errors import InvalidInput
from tests.helpers import business_event, order_paid, register, scheduled_event

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
YUAN = 100

COUPONS = {"templates": [
    {"id": "yq-148-20", "name": "满148减20", "kind": "amount_off", "thresholdFen": 148 * YUAN, "amountFen": 20 * YUAN,
     "validDays": 30, "claimable": False, "perMemberLimit": 100},
    {"id": "yq-new-50", "name": "新人50元", "kind": "amount_off", "amountFen": 50 * YUAN, "validDays": 30,
     "claimable": False},
    {"id": "trial-size", "name": "试用装", "kind": "gift", "gift": "trial", "validDays": 30, "claimable": False},
    {"id": "full-size", "name": "正装", "kind": "gift", "gift": "full", "validDays": 30, "claimable": False},
]}
YUANQI = {"inviteeCoupon": "yq-new-50", "inviterCoupon": "yq-148-20",
          "countLadder": [{"invites": 3, "coupon": "trial-size"}, {"invites": 10, "coupon": "full-size"}]}


def brand_with(store, plugins, brand_id=None, **referral):
    brand_id = brand_id or "rf" + uuid.uuid4().hex[:12]
    store.put_brand(BrandConfig(brand_id, "元气森林", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand_id, now=T, plugin_settings=[
        ("coupons", True, COUPONS), ("referral", True, {**YUANQI, **referral})])
    return brand_id


@pytest.fixture
def engine(store, plugins, bus):
    return Engine(store, plugins, bus)


def code_of(store, brand, member):
    return store.load_member(brand, member).profile.referral_code


def join(store, engine, brand, code=None, at=T, **kwargs):
    member = register(store, brand, at, **kwargs)
    detail = {"brandId": brand, "memberId": member, "channel": "miniprogram"}
    if code:
        detail["referralCode"] = code
    summary = engine.handle(business_event("member.registered", detail, time=at))
    assert summary.status == "applied", summary.as_dict()
    return member, summary


def refusal(summary):
    return next((e["inputs"]["refused"] for e in summary.effects if e["rule"] == "referral-refused"), None)


def pay(engine, brand, member, yuan, at, order_id=None):
    summary = engine.handle(business_event("order.paid", order_paid(brand, member, int(yuan * YUAN),
                                                                     order_id=order_id), time=at))
    assert summary.status == "applied", summary.as_dict()
    return summary


def commissions(store, brand, member):
    state = store.load_member(brand, member)
    balance = state.holdings.get("commission_balance", ())
    pending, settled = (balance[0].pending_fen, balance[0].settled_fen) if balance else (0, 0)
    return pending, settled


def coupons_of(store, brand, member):
    return sorted(c.template_id for c in store.load_member(brand, member).holdings.get("coupons", ()))


def assert_ledger_balances(store, brand, member):
    """The inviter's balances always equal the sum of their commission entries."""
    entries = store.commission_entries(brand, member)
    pending = sum(e["fen"] for e in entries if e["kind"] == "accrue") \
        - sum(e["fen"] for e in entries if e["kind"] == "settle") \
        - sum(e["fen"] for e in entries if e["kind"] == "claw_back" and e["bucket"] == "pending")
    settled = sum(e["fen"] for e in entries if e["kind"] == "settle") \
        - sum(e["fen"] for e in entries if e["kind"] == "claw_back" and e["bucket"] == "settled")
    assert commissions(store, brand, member) == (pending, settled)
    records = store.load_member(brand, member).holdings.get("commissions", ())
    assert sum(r.accrued_fen - r.clawed_fen for r in records if r.status == "pending") == pending


def test_item_25_yuanqi_the_inviter_earns_10_percent_capped_at_100_yuan_and_the_invitee_gets_50_yuan(
        fresh_table, store, plugins, engine):
    brand = brand_with(store, plugins)
    inviter, _ = join(store, engine, brand)
    invitee, _ = join(store, engine, brand, code_of(store, brand, inviter))
    assert coupons_of(store, brand, invitee) == ["yq-new-50"]
    assert coupons_of(store, brand, inviter) == []  # the inviter's coupon waits for the first order

    pay(engine, brand, invitee, 1200, T + timedelta(days=1), order_id="o-1200")
    assert commissions(store, brand, inviter) == (100 * YUAN, 0)  # min(120, 100) yuan, pending
    assert coupons_of(store, brand, inviter) == ["yq-148-20"]
    pay(engine, brand, invitee, 300, T + timedelta(days=2))
    assert commissions(store, brand, inviter) == (100 * YUAN, 0)  # the cap is per invitee, over all orders

    engine.handle(scheduled_event(T + timedelta(days=7, hours=12)))  # the window is not over yet
    assert commissions(store, brand, inviter) == (100 * YUAN, 0)
    engine.handle(scheduled_event(T + timedelta(days=8, hours=12)))
    assert commissions(store, brand, inviter) == (0, 100 * YUAN)
    settled = [f.detail for f in engine.bus.published if f.detail_type == "commission.settled"]
    assert [(s["memberId"], s["fen"], s["orderId"]) for s in settled] == [(inviter, 100 * YUAN, "o-1200")]
    issued = [f.detail for f in engine.bus.published if f.detail_type == "coupon.issued"]
    assert sorted((i["memberId"], i["templateId"]) for i in issued) == sorted(
        [(invitee, "yq-new-50"), (inviter, "yq-148-20")])
    engine.handle(scheduled_event(T + timedelta(days=9, hours=12)))  # a later sweep changes nothing
    assert commissions(store, brand, inviter) == (0, 100 * YUAN)
    assert_ledger_balances(store, brand, inviter)


def test_a_refund_inside_the_window_claws_back_in_proportion_and_one_after_it_leaves_the_commission(
        fresh_table, store, plugins, engine):
    brand = brand_with(store, plugins)
    inviter, _ = join(store, engine, brand)
    invitee, _ = join(store, engine, brand, code_of(store, brand, inviter))
    pay(engine, brand, invitee, 500, T + timedelta(days=1), order_id="a")  # 50 yuan
    pay(engine, brand, invitee, 200, T + timedelta(days=1), order_id="b")  # 20 yuan
    refund = {"brandId": brand, "memberId": invitee, "orderId": "a", "amountFen": 100 * YUAN}
    engine.handle(business_event("order.refunded", {**refund, "refundId": "r1"}, time=T + timedelta(days=3)))
    assert commissions(store, brand, inviter) == (60 * YUAN, 0)  # a: 100 of 500 refunded takes back 10 of 50
    engine.handle(business_event("order.refunded", {**refund, "orderId": "b", "amountFen": 200 * YUAN, "refundId": "r2"},
                                 time=T + timedelta(days=9)))  # after b's window: settled commissions are final
    engine.handle(scheduled_event(T + timedelta(days=8, hours=12)))
    assert commissions(store, brand, inviter) == (0, 60 * YUAN)
    # A refund dated inside a's window that arrives after the sweep settled it still claws back, from settled.
    engine.handle(business_event("order.refunded", {**refund, "refundId": "r3"}, time=T + timedelta(days=6)))
    assert commissions(store, brand, inviter) == (0, 50 * YUAN)
    # The room under the cap opens again by what was clawed back.
    pay(engine, brand, invitee, 1000, T + timedelta(days=10))
    assert commissions(store, brand, inviter) == (50 * YUAN, 50 * YUAN)
    assert_ledger_balances(store, brand, inviter)


def test_item_26_three_invites_give_the_trial_size_and_ten_the_full_size(store, plugins, engine):
    brand = brand_with(store, plugins)
    inviter, _ = join(store, engine, brand)
    code = code_of(store, brand, inviter)
    for n in range(1, 11):
        join(store, engine, brand, code)
        held = coupons_of(store, brand, inviter)
        assert ("trial-size" in held) == (n >= 3) and ("full-size" in held) == (n >= 10)
    assert coupons_of(store, brand, inviter) == ["full-size", "trial-size"]
    assert len(store.load_member(brand, inviter).holdings["referrals"]) == 10


def test_item_30_a_kol_earns_5_percent_and_8_percent_once_the_month_passes_50000_yuan(store, plugins, engine):
    brand = brand_with(store, plugins, levels=[{"percent": 10, "capFen": None}])
    kol, _ = join(store, engine, brand)
    store.set_tags(brand, kol, ("kol",))
    fans = [join(store, engine, brand, code_of(store, brand, kol))[0] for _ in range(3)]
    pay(engine, brand, fans[0], 30000, T + timedelta(days=1))  # month 30,000: 5% = 1,500
    pay(engine, brand, fans[1], 20000, T + timedelta(days=2))  # month 50,000 exactly: still 5% = 1,000
    assert commissions(store, brand, kol)[0] == 2500 * YUAN
    summary = pay(engine, brand, fans[2], 1000, T + timedelta(days=3))  # month 51,000: 8% = 80
    assert commissions(store, brand, kol)[0] == 2580 * YUAN
    accrued = next(e for e in summary.effects if e["effect"] == "AccrueCommission")
    assert (accrued["rule"], accrued["inputs"]["percent"]) == ("kol-commission-by-monthly-sales", 8)
    pay(engine, brand, fans[0], 1000, T + timedelta(days=32))  # April starts again at 5%
    assert commissions(store, brand, kol)[0] == 2630 * YUAN


def test_two_levels_at_most_the_inviters_inviter_earns_level_two_and_nobody_above(store, plugins, engine):
    brand = brand_with(store, plugins, depth=2)
    z, _ = join(store, engine, brand)
    a, _ = join(store, engine, brand, code_of(store, brand, z))
    b, _ = join(store, engine, brand, code_of(store, brand, a))
    c, _ = join(store, engine, brand, code_of(store, brand, b))
    pay(engine, brand, c, 100, T + timedelta(days=1))
    assert [commissions(store, brand, m)[0] for m in (z, a, b)] == [0, 2 * YUAN, 10 * YUAN]
    with pytest.raises(InvalidInput) as third:
        configure_brand(store, plugins, brand, now=T, plugin_settings=[("referral", True, {"depth": 3})])
    assert third.value.field == "plugins.referral.params.depth"


def test_referral_abuse_is_refused_with_typed_reasons(store, plugins, engine):
    brand = brand_with(store, plugins, depth=2)
    a, _ = join(store, engine, brand, openid="wx-a")
    b, _ = join(store, engine, brand, code_of(store, brand, a))
    _, unknown = join(store, engine, brand, "NOSUCHCODE")
    assert refusal(unknown) == "UNKNOWN_CODE"

    def enter(member, code, at=T + timedelta(days=1)):
        return engine.handle(business_event("referral.code_entered",
                                            {"brandId": brand, "memberId": member, "referralCode": code}, time=at))

    assert refusal(enter(a, code_of(store, brand, a))) == "SELF_REFERRAL"
    assert refusal(enter(a, code_of(store, brand, b))) == "LOOP"  # A invited B; B cannot invite A
    c, _ = join(store, engine, brand, code_of(store, brand, b))
    assert refusal(enter(a, code_of(store, brand, c))) == "LOOP"  # a loop one level further up
    other, _ = join(store, engine, brand)
    assert refusal(enter(b, code_of(store, brand, other))) == "ALREADY_BOUND"  # rebinding with another code
    late, _ = join(store, engine, brand)
    assert refusal(enter(late, code_of(store, brand, other), at=T + timedelta(days=8))) == "WINDOW_CLOSED"
    assert store.load_member(brand, b).markers["referral:bound"]["referrer"] == a
    assert len(store.load_member(brand, a).holdings["referrals"]) == 1


def test_a_phone_number_referred_once_cannot_be_referred_again_under_a_new_account(store, plugins, engine):
    from infra import keys
    from infra.models import LookupItem, MemberItem
    from rules.members import LookupKind
    from tests.helpers import new_phone

    brand = brand_with(store, plugins)
    inviter, _ = join(store, engine, brand)
    phone = new_phone()
    first, _ = join(store, engine, brand, code_of(store, brand, inviter), phone=phone)
    # The account goes away (as an erasure would do it): profile and phone lookup deleted.
    old = store.load_member(brand, first).profile
    MemberItem(keys.member_pk(brand, first), keys.PROFILE).delete()
    LookupItem(keys.lookup_pk(brand, LookupKind.PHONE, old.phone_hash), keys.LOOKUP).delete()
    again, summary = join(store, engine, brand, code_of(store, brand, inviter), phone=phone)
    assert refusal(summary) == "ALREADY_REFERRED"


def test_members_bind_a_code_and_see_their_referrals_and_commissions_through_graphql(store, plugins):
    from infra import runtime
    from tests.helpers import call_graphql, token

    brand = brand_with(store, plugins)
    now = datetime.now(timezone.utc)
    inviter = register(store, brand, now)
    invitee = register(store, brand, now)
    bind = """mutation($code: String!) { bindReferralCode(code: $code) { __typename
      ... on ReferralBound { referrerId } ... on ReferralRefused { reason message } } }"""
    _, own = call_graphql(bind, {"code": code_of(store, brand, invitee)}, token("member", invitee, brand))
    assert own["data"]["bindReferralCode"]["reason"] == "SELF_REFERRAL"
    _, bound = call_graphql(bind, {"code": code_of(store, brand, inviter).lower()}, token("member", invitee, brand))
    assert bound["data"]["bindReferralCode"] == {"__typename": "ReferralBound", "referrerId": inviter}
    _, again = call_graphql(bind, {"code": code_of(store, brand, inviter)}, token("member", invitee, brand))
    assert again["data"]["bindReferralCode"]["__typename"] == "ReferralBound"  # the same code: the same answer
    other = register(store, brand, now)
    _, rebind = call_graphql(bind, {"code": code_of(store, brand, other)}, token("member", invitee, brand))
    assert rebind["data"]["bindReferralCode"]["reason"] == "ALREADY_BOUND"

    runtime.engine().handle(business_event("order.paid", order_paid(brand, invitee, 500 * YUAN, order_id="g1"),
                                           time=now))
    query = """{ me { referredBy referrals { memberId boundAt } coupons { name }
      commissions { pendingFen settledFen records { orderId level accruedFen status } } } }"""
    _, mine = call_graphql(query, token=token("member", inviter, brand))
    me = mine["data"]["me"]
    assert me["referrals"][0]["memberId"] == invitee
    assert me["commissions"] == {"pendingFen": 5000, "settledFen": 0, "records": [
        {"orderId": "g1", "level": 1, "accruedFen": 5000, "status": "pending"}]}
    assert me["coupons"] == [{"name": "满148减20"}]
    _, theirs = call_graphql("{ me { referredBy coupons { name } } }", token=token("member", invitee, brand))
    assert theirs["data"]["me"] == {"referredBy": inviter, "coupons": [{"name": "新人50元"}]}


def test_a_random_stream_of_orders_refunds_redeliveries_and_sweeps_keeps_the_commission_ledger_exact(
        fresh_table, store, plugins, engine):
    """Whatever happens, in whatever order it is delivered: the balances equal the entries, every invitee's net
    commission stays under the cap, and each refund claws back exactly its share of its order."""
    import random

    rng = random.Random(20261126)
    brand = brand_with(store, plugins, depth=2, levels=[{"percent": 10, "capFen": 300 * YUAN},
                                                        {"percent": 3, "capFen": 50 * YUAN}])
    top, _ = join(store, engine, brand)
    inviter, _ = join(store, engine, brand, code_of(store, brand, top))
    invitees = [join(store, engine, brand, code_of(store, brand, inviter))[0] for _ in range(3)]
    orders: list[tuple[str, str, int, datetime]] = []
    deliveries = []
    at = T + timedelta(hours=1)
    for step in range(40):
        at += timedelta(hours=rng.randint(1, 30))
        roll = rng.random()
        if roll < 0.5 or not orders:
            member = rng.choice(invitees)
            order_id = f"o{step}"
            amount = rng.randint(1, 2000) * YUAN
            orders.append((member, order_id, amount, at))
            event = business_event("order.paid", order_paid(brand, member, amount, order_id=order_id), time=at)
        elif roll < 0.8:
            member, order_id, amount, _ = rng.choice(orders)
            event = business_event("order.refunded", {"brandId": brand, "memberId": member, "orderId": order_id,
                                                      "amountFen": rng.randint(1, amount // 2),
                                                      "refundId": f"r{step}"}, time=at)
        else:
            continue
        # EventBridge delivers late (up to a day and a half), sometimes twice.
        for _ in range(2 if rng.random() < 0.3 else 1):
            deliveries.append((at + timedelta(hours=rng.uniform(0, 36)), event))
    day = T.replace(hour=16, minute=0)
    while day < at + timedelta(days=12):
        deliveries.append((day, scheduled_event(day)))  # the daily sweep, brand-local midnight
        day += timedelta(days=1)
    for _, event in sorted(deliveries, key=lambda d: d[0]):
        assert engine.handle(event).status in ("applied", "duplicate")

    for member in (inviter, top):
        assert_ledger_balances(store, brand, member)
    records = store.load_member(brand, inviter).holdings["commissions"]
    for invitee in invitees:
        net = sum(r.accrued_fen - r.clawed_fen for r in records if r.invitee_id == invitee)
        assert 0 <= net <= 300 * YUAN
    assert all(r.status == "settled" for r in records)
    pending, settled = commissions(store, brand, inviter)
    assert pending == 0 and settled == sum(r.accrued_fen - r.clawed_fen for r in records)
    assert commissions(store, brand, top)[1] == sum(
        r.accrued_fen - r.clawed_fen for r in store.load_member(brand, top).holdings.get("commissions", ()))


# ---- review regressions -----------------------------------------------------------------------------------------


def test_a_partner_plugin_cannot_pay_commissions_or_give_coupons_to_other_members(store, plugins, bus):
    import types

    from plugins.coupons.effects import IssueCoupon
    from rules.hookspecs import hookimpl
    from rules.family import families
    from rules.plugin_manager import PluginInfo, PluginRegistry
    from plugins.referral.model import AccrueCommission

    greedy = types.ModuleType("greedy")
    greedy.siyu_plugin_info = hookimpl(lambda: PluginInfo("greedy", "1.0.0", {"type": "object"}, order=90))

    @hookimpl
    def siyu_member_checked_in(event, context):
        if event.get("what") == "coupon":
            yield IssueCoupon(template_id="yq-new-50", to_member=event.get("victim"), reason="x", rule="x")
        else:
            yield AccrueCommission(to_member=event.get("victim"), order_id="fake", level=1, fen=10**7,
                                   order_fen=1, settles_at=context.now + timedelta(days=1), rule="x")

    greedy.siyu_member_checked_in = siyu_member_checked_in
    registry = PluginRegistry()
    for module in families().plugin_modules:
        registry.register(__import__(module, fromlist=["_"]))
    registry.register(greedy)
    engine = Engine(store, registry, bus)
    brand = "gr" + uuid.uuid4().hex[:10]
    store.put_brand(BrandConfig(brand, "b", BAIGUOYUAN_LADDER))
    configure_brand(store, registry, brand, now=T, plugin_settings=[("coupons", True, COUPONS), ("greedy", True, {})])
    a, _ = join(store, engine, brand)
    b, _ = join(store, engine, brand)
    for what in ("commission", "coupon"):
        summary = engine.handle(business_event("member.checked_in", {"brandId": brand, "memberId": a, "victim": b,
                                                                     "what": what}, time=T + timedelta(hours=1)))
        assert (summary.status, summary.plugin) == ("failed", "greedy") and "reserved" in summary.reason
    assert commissions(store, brand, b) == (0, 0) and coupons_of(store, brand, b) == []


def test_a_refund_before_its_order_is_not_counted_again_by_a_later_refund(store, plugins, engine):
    brand = brand_with(store, plugins)
    inviter, _ = join(store, engine, brand)
    invitee, _ = join(store, engine, brand, code_of(store, brand, inviter))
    refund = {"brandId": brand, "memberId": invitee, "orderId": "early", "amountFen": 500 * YUAN}
    engine.handle(business_event("order.refunded", {**refund, "refundId": "r1"}, time=T + timedelta(hours=1)))
    pay(engine, brand, invitee, 1000, T + timedelta(hours=2), order_id="early")  # earns 10% of 500: 50 yuan
    assert commissions(store, brand, inviter) == (50 * YUAN, 0)
    engine.handle(business_event("order.refunded", {**refund, "amountFen": 250 * YUAN, "refundId": "r2"},
                                 time=T + timedelta(hours=3)))
    assert commissions(store, brand, inviter) == (25 * YUAN, 0)  # half of what was left: half the commission


def test_an_invitee_who_erases_their_account_still_lets_the_inviters_commission_settle(
        fresh_table, store, plugins, engine):
    from rules import erasure

    brand = brand_with(store, plugins)
    inviter, _ = join(store, engine, brand)
    invitee, _ = join(store, engine, brand, code_of(store, brand, inviter))
    pay(engine, brand, invitee, 500, T + timedelta(days=1))
    erasure.erase(store, brand, invitee, now=T + timedelta(days=2), actor=f"member:{invitee}")
    engine.handle(scheduled_event(T + timedelta(days=8, hours=12)))
    assert commissions(store, brand, inviter) == (0, 50 * YUAN)


def test_many_orders_settling_on_one_day_settle_over_the_following_days(fresh_table, store, plugins, engine):
    brand = brand_with(store, plugins, levels=[{"percent": 10, "capFen": None}])
    inviter, _ = join(store, engine, brand)
    invitee, _ = join(store, engine, brand, code_of(store, brand, inviter))
    for n in range(25):
        pay(engine, brand, invitee, 10, T + timedelta(days=1, minutes=n))
    day = T.replace(hour=16) + timedelta(days=8)
    for _ in range(4):
        summary = engine.handle(scheduled_event(day))
        assert summary.reason is None, summary.reason
        day += timedelta(days=1)
    assert commissions(store, brand, inviter) == (0, 25 * YUAN)
    assert_ledger_balances(store, brand, inviter)


def test_entering_codes_is_limited_per_member(store, plugins):
    from tests.helpers import call_graphql, token

    brand = brand_with(store, plugins)
    member = register(store, brand, datetime.now(timezone.utc))
    bind = 'mutation { bindReferralCode(code: "NOSUCHCODE%d") { __typename } }'
    answers = [call_graphql(bind % n, token=token("member", member, brand))[1]["data"]["bindReferralCode"]["__typename"]
               for n in range(12)]
    assert answers[:10] == ["ReferralRefused"] * 10 and answers[10:] == ["RateLimited"] * 2
