"""Coupons (DOMAIN.md 5.1, 5.3, item 33): templates as data, eligibility with reasons, claims that never oversell,
coupons used exactly once, coupons that rules give."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from plugins.coupons import model as coupons
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from plugins.coupons.model import CouponNotEligible
from tests.helpers import business_event, call_graphql, order_paid, register, token

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
YUAN = 100

# DOMAIN item 33: 满50减10 at the door; 满100减20 valid 7 days; 10 yuan for joining the group; 30 yuan for adding
# WeCom; an 8 yuan renewal coupon on the parcel card.
TEMPLATES = [
    {"id": "entry-50-10", "name": "满50减10", "kind": "amount_off", "thresholdFen": 50 * YUAN, "amountFen": 10 * YUAN,
     "validDays": 30, "claimable": False},
    {"id": "after-100-20", "name": "满100减20", "kind": "amount_off", "thresholdFen": 100 * YUAN,
     "amountFen": 20 * YUAN, "validDays": 7},
    {"id": "group-10", "name": "进群券", "kind": "amount_off", "amountFen": 10 * YUAN, "validDays": 30,
     "eligibility": {"tags": ["community"]}},
    {"id": "wecom-30", "name": "加企微券", "kind": "amount_off", "thresholdFen": 100 * YUAN, "amountFen": 30 * YUAN,
     "validDays": 30, "eligibility": {"tags": ["wecom"]}, "stackableWith": ["group-10"]},
    {"id": "renewal-8", "name": "复购券", "kind": "amount_off", "amountFen": 8 * YUAN, "validDays": 21,
     "claimable": False},
    {"id": "silver-birthday", "name": "生日75折", "kind": "percent_off", "discountPercent": 75, "validDays": 30,
     "eligibility": {"tiers": ["YIN", "JIN", "ZUAN"], "birthdayMonth": True}},
    {"id": "first-order", "name": "首单立减", "kind": "amount_off", "amountFen": 5 * YUAN, "validDays": 7,
     "eligibility": {"firstOrder": True, "newMemberWithinDays": 7}},
    {"id": "limited", "name": "限量券", "kind": "gift", "gift": "dragon-fruit", "validDays": 3, "stock": 10},
]
PARAMS = {"templates": TEMPLATES, "onRegistration": ["entry-50-10"], "lateDeliveryCompensation": "renewal-8"}


@pytest.fixture
def brand(store, plugins):
    brand_id = "cp" + uuid.uuid4().hex[:12]
    store.put_brand(BrandConfig(brand_id, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand_id, now=T, plugin_settings=[
        ("points", True, {}), ("tiers", True, {}), ("coupons", True, PARAMS)])
    return brand_id


@pytest.fixture
def send(store, plugins, bus):
    engine = Engine(store, plugins, bus)

    def send(detail_type, detail, at, event_id=None):
        summary = engine.handle(business_event(detail_type, detail, time=at, event_id=event_id))
        assert summary.status in ("applied", "duplicate"), summary.as_dict()
        return summary

    return send


def joined(store, brand, send, at=T, **kwargs) -> str:
    member = register(store, brand, at, **kwargs)
    send("member.registered", {"brandId": brand, "memberId": member, "channel": "store"}, at)
    return member


def held(store, brand, member, at=T):
    state = store.load_member(brand, member, as_of=at)
    return {c.template_id: c for c in state.holdings.get("coupons", ())}


def test_a_new_member_gets_the_50_minus_10_entry_coupon_once_however_often_registration_is_announced(store, brand, send):
    member = joined(store, brand, send)
    send("member.registered", {"brandId": brand, "memberId": member, "channel": "store"}, T + timedelta(minutes=1))
    coupon = held(store, brand, member)["entry-50-10"]
    assert (coupon.threshold_fen, coupon.amount_fen, coupon.valid_until) == (5000, 1000, T + timedelta(days=30))
    assert len(store.load_member(brand, member).holdings["coupons"]) == 1


def test_the_100_minus_20_coupon_is_valid_seven_days_from_the_claim(store, brand, send):
    member = joined(store, brand, send)
    coupon = coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="r1")
    assert coupon.valid_until == T + timedelta(days=7)
    assert coupon.state(T + timedelta(days=6, hours=23)) == "available"
    assert coupon.state(T + timedelta(days=7)) == "expired"
    # An order on day 8 names it: not used, and the event says why.
    summary = send("order.paid", order_paid(brand, member, 150 * YUAN, couponIds=[coupon.coupon_id]),
                   T + timedelta(days=8))
    notes = [e for e in summary.effects if e["effect"] == "Note"]
    assert notes and "expired" in notes[0]["message"]
    assert held(store, brand, member)["after-100-20"].status == "available"


def test_a_coupon_below_its_threshold_is_not_used_and_one_that_reaches_it_is_used_exactly_once(store, brand, send):
    member = joined(store, brand, send)
    coupon = coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="r1")
    below = send("order.paid", order_paid(brand, member, 99 * YUAN, couponIds=[coupon.coupon_id]), T + timedelta(hours=1))
    assert "threshold" in next(e for e in below.effects if e["effect"] == "Note")["message"]

    first = send("order.paid", order_paid(brand, member, 120 * YUAN, order_id="o-1", couponIds=[coupon.coupon_id]),
                 T + timedelta(hours=2))
    assert [e["effect"] for e in first.effects if "Coupon" in e["effect"]] == ["UseCoupon"]
    # The same order announced again (a new event id) and a second order naming the same coupon: neither uses it.
    second = send("order.paid", order_paid(brand, member, 130 * YUAN, order_id="o-2", couponIds=[coupon.coupon_id]),
                  T + timedelta(hours=3))
    assert "already used by order o-1" in next(e for e in second.effects if e["effect"] == "Note")["message"]
    used = held(store, brand, member)["after-100-20"]
    assert (used.status, used.order_id, used.used_at) == ("used", "o-1", T + timedelta(hours=2))


def test_two_orders_racing_for_one_coupon_use_it_once(store, brand, plugins, bus):
    engine = Engine(store, plugins, bus)
    member = register(store, brand, T)
    coupon = coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="r1")
    results = []

    def pay(order_id):
        event = business_event("order.paid", order_paid(brand, member, 200 * YUAN, order_id=order_id,
                                                        couponIds=[coupon.coupon_id]), time=T + timedelta(hours=1))
        results.append(engine.handle(event))

    threads = [threading.Thread(target=pay, args=(f"race-{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    uses = [e for s in results for e in s.effects if e["effect"] == "UseCoupon"]
    assert len(uses) == 1 and all(s.status == "applied" for s in results)
    assert held(store, brand, member)["after-100-20"].order_id == uses[0]["order_id"]


def test_coupons_that_do_not_stack_are_not_used_together(store, brand, send):
    member = joined(store, brand, send)
    store.set_tags(brand, member, ("community", "wecom"))
    config = store.get_brand(brand)
    group = coupons.claim(store, config, member, "group-10", T, request_id="g")
    wecom = coupons.claim(store, config, member, "wecom-30", T, request_id="w")
    after = coupons.claim(store, config, member, "after-100-20", T, request_id="a")
    summary = send("order.paid", order_paid(brand, member, 300 * YUAN, couponIds=[
        wecom.coupon_id, group.coupon_id, after.coupon_id]), T + timedelta(hours=1))
    used = [e["coupon_id"] for e in summary.effects if e["effect"] == "UseCoupon"]
    assert used == [wecom.coupon_id, group.coupon_id]  # wecom-30 lists group-10 as stackable
    assert "does not stack" in next(e for e in summary.effects if e["effect"] == "Note")["message"]


def test_offers_list_every_template_with_every_reason_a_member_cannot_claim_it(store, brand, send):
    member = joined(store, brand, send, birthday="--03-15")
    offers = {o.template.id: o for o in coupons.offers(store, store.get_brand(brand), member, T)}
    assert [r.code for r in offers["entry-50-10"].reasons] == ["NOT_CLAIMABLE", "LIMIT_REACHED"]
    assert offers["after-100-20"].eligible
    assert [r.code for r in offers["group-10"].reasons] == ["TAGS"]
    assert [r.code for r in offers["silver-birthday"].reasons] == ["TIER"]  # in her birthday month, but 普卡
    assert offers["first-order"].eligible and offers["limited"].stock_left == 10

    send("order.paid", order_paid(brand, member, 600 * YUAN), T + timedelta(days=8))  # 600 growth: 银卡
    later = {o.template.id: o for o in coupons.offers(store, store.get_brand(brand), member, T + timedelta(days=8))}
    assert later["silver-birthday"].eligible
    assert [r.code for r in later["first-order"].reasons] == ["NEW_MEMBER", "FIRST_ORDER"]
    april = {o.template.id: o for o in coupons.offers(store, store.get_brand(brand), member, T + timedelta(days=40))}
    assert [r.code for r in april["silver-birthday"].reasons] == ["BIRTHDAY_MONTH"]


def test_a_claim_refused_says_why_and_writes_nothing(store, brand, send):
    member = joined(store, brand, send)
    with pytest.raises(CouponNotEligible) as refused:
        coupons.claim(store, store.get_brand(brand), member, "group-10", T, request_id="x")
    assert [r.code for r in refused.value.reasons] == ["TAGS"]
    coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="y")
    with pytest.raises(CouponNotEligible) as again:
        coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="z")
    assert [r.code for r in again.value.reasons] == ["LIMIT_REACHED"]
    assert sorted(held(store, brand, member)) == ["after-100-20", "entry-50-10"]


def test_fifty_concurrent_claims_against_a_stock_of_ten_give_exactly_ten_coupons(store, brand):
    config = store.get_brand(brand)
    members = [register(store, brand, T) for _ in range(25)]
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def claim(member, n):
        start.wait()
        try:
            coupons.claim(store, config, member, "limited", T, request_id=f"{member}-{n}")
            result = "claimed"
        except CouponNotEligible as refused:
            result = refused.reasons[0].code
        with lock:
            outcomes.append(result)

    # 25 members, each tapping twice at once: the stock and the one-per-member limit both hold.
    threads = [threading.Thread(target=claim, args=(m, n)) for m in members for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("claimed") == 10
    assert set(outcomes) <= {"claimed", "OUT_OF_STOCK", "LIMIT_REACHED"}
    held_total = sum(len(store.load_member(brand, m).holdings.get("coupons", ())) for m in members)
    assert held_total == 10
    assert all(len(store.load_member(brand, m).holdings.get("coupons", ())) <= 1 for m in members)
    assert store.coupon_state(brand)[0]["limited"] == 10


def test_a_late_delivery_gives_one_compensation_coupon_per_order(store, brand, send):
    member = joined(store, brand, send)
    late = {"brandId": brand, "memberId": member, "orderId": "o-late", "promisedAt": "2026-03-02T10:00:00+08:00"}
    send("order.delivered_late", late, T + timedelta(days=2))
    send("order.delivered_late", late, T + timedelta(days=2, hours=1))  # the logistics system repeats itself
    renewal = [c for c in store.load_member(brand, member).holdings["coupons"] if c.template_id == "renewal-8"]
    assert len(renewal) == 1 and renewal[0].source == "coupons" and "o-late" in renewal[0].reason


def test_a_paused_template_cannot_be_claimed(store, brand, send):
    from plugins.coupons.effects import TemplatesPaused

    member = joined(store, brand, send)
    engine_writes = [TemplatesPaused(brand, ("after-100-20",), by="alert-1")]
    store.commit_event(_record("pause-" + uuid.uuid4().hex, brand), None, tuple(engine_writes))
    with pytest.raises(CouponNotEligible) as refused:
        coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="p")
    assert [r.code for r in refused.value.reasons] == ["PAUSED"]
    store.commit_event(_record("resume-" + uuid.uuid4().hex, brand), None,
                       (TemplatesPaused(brand, ("after-100-20",), by="alert-1", resume=True),))
    assert coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="p2")


def _record(event_id, brand):
    from rules.persistence import EventRecord

    return EventRecord(event_id=event_id, brand_id=brand, detail_type="test", at=T, effects=(), follow_ups=())


def test_members_see_offers_and_claim_through_graphql_and_their_coupons_in_me(store, brand, send):
    member = joined(store, brand, send)
    mine = token("member", member, brand)
    _, body = call_graphql("{ couponOffers { template { id name } eligible reasons { code message } stockLeft } }",
                           token=mine)
    offers = {o["template"]["id"]: o for o in body["data"]["couponOffers"]}
    assert offers["group-10"]["reasons"] == [{"code": "TAGS", "message": "不适用于您所在的会员群组"}]
    _, english = call_graphql("{ couponOffers { template { id } reasons { code message } } }", token=mine,
                              language="en-US,en;q=0.9,zh;q=0.5")
    offers = {o["template"]["id"]: o for o in english["data"]["couponOffers"]}
    assert offers["group-10"]["reasons"] == [{"code": "TAGS", "message": "not for this member's group"}]

    claim = """mutation($id: String!) { claimCoupon(templateId: $id) { __typename
      ... on CouponClaimed { coupon { id name status thresholdFen amountFen } }
      ... on CouponNotEligible { code reasons { code } } } }"""
    _, claimed = call_graphql(claim, {"id": "after-100-20"}, mine)
    assert claimed["data"]["claimCoupon"]["coupon"]["name"] == "满100减20"
    _, refused = call_graphql(claim, {"id": "after-100-20"}, mine)
    assert refused["data"]["claimCoupon"] == {"__typename": "CouponNotEligible", "code": "COUPON_NOT_ELIGIBLE",
                                              "reasons": [{"code": "LIMIT_REACHED"}]}
    _, unknown = call_graphql(claim, {"id": "nope"}, mine)
    assert unknown["data"]["claimCoupon"]["__typename"] == "CouponTemplateNotFound"

    _, me = call_graphql('{ me { coupons { name status origin givenBy } } }', token=mine)
    # The entry coupon was given at registration (event time T) and has expired by the wall clock's today.
    assert me["data"]["me"]["coupons"] == [
        {"name": "满100减20", "status": "available", "origin": "CLAIMED", "givenBy": None},
        {"name": "满50减10", "status": "expired", "origin": "GIVEN_BY_RULE", "givenBy": "coupons"}]
    # Staff put the member in the community group; the group coupon opens up.
    tag = """mutation($m: ID!) { setMemberTags(memberId: $m, tags: ["community"]) { __typename
      ... on MemberTagsSet { member { tags } } } }"""
    _, tagged = call_graphql(tag, {"m": member}, token("staff", "s1", brand))
    assert tagged["data"]["setMemberTags"]["member"]["tags"] == ["community"]
    _, again = call_graphql(claim, {"id": "group-10"}, mine)
    assert again["data"]["claimCoupon"]["__typename"] == "CouponClaimed"


def test_template_parameters_are_checked_when_the_brand_saves_them(store, plugins, brand):
    from rules.errors import InvalidInput

    bad = {"templates": [{"id": "a", "name": "A", "kind": "amount_off", "validDays": 3}]}
    with pytest.raises(InvalidInput) as missing:
        configure_brand(store, plugins, brand, now=T, plugin_settings=[("coupons", True, bad)])
    assert missing.value.field.startswith("plugins.coupons.params.templates.0")
    dangling = {"templates": TEMPLATES, "lateDeliveryCompensation": "nope"}
    with pytest.raises(InvalidInput) as unknown:
        configure_brand(store, plugins, brand, now=T, plugin_settings=[("coupons", True, dangling)])
    assert unknown.value.field == "plugins.coupons.params.lateDeliveryCompensation"


def test_a_coupon_named_twice_in_one_order_is_used_once_and_the_order_still_counts(store, brand, send):
    member = joined(store, brand, send)
    coupon = coupons.claim(store, store.get_brand(brand), member, "after-100-20", T, request_id="r1")
    summary = send("order.paid", order_paid(brand, member, 150 * YUAN, couponIds=[coupon.coupon_id] * 2),
                   T + timedelta(hours=1))
    assert [e["effect"] for e in summary.effects if e["effect"] in ("UseCoupon", "Note")] == ["UseCoupon", "Note"]
    assert store.load_member(brand, member).points.balance == 150


def test_a_claim_retried_with_its_key_returns_the_same_coupon(store, brand, send):
    member = joined(store, brand, send)
    mine = token("member", member, brand)
    claim = """mutation { claimCoupon(templateId: "after-100-20", idempotencyKey: "tap-1") { __typename
      ... on CouponClaimed { coupon { id } } } }"""
    _, first = call_graphql(claim, token=mine)
    _, again = call_graphql(claim, token=mine)
    assert first["data"]["claimCoupon"] == again["data"]["claimCoupon"]
    assert first["data"]["claimCoupon"]["__typename"] == "CouponClaimed"


def test_ten_members_one_after_another_get_all_ten_of_a_stock_split_over_eight_counters(store, brand):
    # The stock is split over counters; a claim whose counter is given out finds one with room, so the stock is
    # only "out" when all ten are given out, and the eleventh member is told so.
    config = store.get_brand(brand)
    members = [register(store, brand, T) for _ in range(11)]
    for member in members[:10]:
        coupons.claim(store, config, member, "limited", T, request_id=f"{member}-only")
    with pytest.raises(CouponNotEligible) as refused:
        coupons.claim(store, config, members[10], "limited", T, request_id="last")
    assert [r.code for r in refused.value.reasons] == ["OUT_OF_STOCK"]
    assert store.coupon_state(brand)[0]["limited"] == 10
