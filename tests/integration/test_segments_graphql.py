"""Segments through GraphQL: staff see a member's lifecycle and segments, the brand's segments with counts, and a
segment's members a page at a time; members see their own only where the brand allows; coupons can require a
stage."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from plugins.segments.storage import SegmentMemberItem, segment_pk
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.helpers import business_event, call_graphql, order_paid, register, token

DAY0 = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
ACTIVE_ONLY = {"id": "active-10", "name": "活跃会员10元券", "kind": "amount_off", "amountFen": 1000, "validDays": 30,
               "eligibility": {"stages": ["NEW", "ACTIVE"]}}


def make_brand(store, plugins, **segments) -> str:
    brand = f"sq{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins={
        "coupons": plugins.validate_params("coupons", {"templates": [ACTIVE_ONLY]}),
        "segments": plugins.validate_params("segments", segments),
    }))
    return brand


def buy(engine, brand, member, at, fen=5000):
    event = business_event("order.paid", order_paid(brand, member, fen), time=at)
    assert engine.handle(event).status == "applied"


def test_staff_see_a_members_stage_and_segments_and_the_brands_counts(store, plugins, engine):
    brand = make_brand(store, plugins)
    members = [register(store, brand, DAY0) for _ in range(3)]
    for member in members[:2]:
        buy(engine, brand, member, DAY0)
    engine.handle(business_event("member.registered", {"brandId": brand, "memberId": members[2],
                                                       "channel": "store"}, time=DAY0))
    staff = token("staff", "ops", brand)
    _, body = call_graphql('query($id: ID!) { member(id: $id) { lifecycle { stage since } segments { code name } } }',
                           {"id": members[0]}, token=staff, language="zh-CN")
    shown = body["data"]["member"]
    assert shown["lifecycle"] == {"stage": "NEW", "since": "2026-01-05T02:00:00+00:00"}
    assert shown["segments"] == [{"code": "STAGE_NEW", "name": "新客"}]
    _, body = call_graphql("{ segments { code name count } }", token=staff, language="en")
    counts = {s["code"]: s["count"] for s in body["data"]["segments"]}
    assert counts["STAGE_NEW"] == 2 and counts["STAGE_PROSPECT"] == 1 and counts["STAGE_ACTIVE"] == 0
    assert {s["code"]: s["name"] for s in body["data"]["segments"]}["STAGE_PROSPECT"] == "prospect (no order yet)"


def test_a_segments_members_come_a_page_at_a_time_from_its_index(store, plugins, engine):
    brand = make_brand(store, plugins)
    members = sorted(register(store, brand, DAY0) for _ in range(5))
    for member in members:
        buy(engine, brand, member, DAY0)
    staff = token("staff", "ops", brand)
    query = ('query($after: String) { segmentMembers(code: "STAGE_NEW", first: 2, after: $after) '
             '{ edges { node { memberId since } } pageInfo { hasNextPage endCursor } } }')
    found, after = [], None
    for _ in range(3):
        _, body = call_graphql(query, {"after": after}, token=staff)
        page = body["data"]["segmentMembers"]
        found += [e["node"]["memberId"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert found == members
    # Leaving a segment takes the member out of its index in the same transaction.
    later = DAY0 + timedelta(days=31)
    engine.handle(business_event("order.paid", order_paid(brand, members[0], 100), time=later))
    assert [i.member_id for i in SegmentMemberItem.query(segment_pk(brand, "STAGE_NEW"))] == members[1:]
    _, body = call_graphql('{ segmentMembers(code: "NO_SUCH", first: 2) { edges { cursor } } }', token=staff)
    assert body["data"]["segmentMembers"]["edges"] == []


def test_members_see_their_own_segments_only_where_the_brand_allows(store, plugins, engine):
    hidden = make_brand(store, plugins)
    shown = make_brand(store, plugins, membersSeeSegments=True)
    query = "{ me { lifecycle { stage } segments { code } } }"
    members = {}
    for brand, expected in ((hidden, {"lifecycle": None, "segments": []}),
                            (shown, {"lifecycle": {"stage": "NEW"}, "segments": [{"code": "STAGE_NEW"}]})):
        member = members[brand] = register(store, brand, DAY0)
        buy(engine, brand, member, DAY0)
        _, body = call_graphql(query, token=token("member", member, brand))
        assert body["data"]["me"] == expected
    # Nor does the member's own activity show the judgement or its follow-ups: they are the brand's.
    _, body = call_graphql("{ me { activity { edges { node { decisions { kind rule } } } } } }",
                           token=token("member", members[hidden], hidden))
    [order] = body["data"]["me"]["activity"]["edges"]
    # Only markers are left (the sweep's call back, the coupons plugin's first order): no OTHER, no BRAND_EMIT.
    assert {d["kind"] for d in order["node"]["decisions"]} == {"ONCE"}


def test_a_coupon_for_active_members_is_refused_to_a_dormant_member_with_the_reason(store, plugins, engine):
    brand = make_brand(store, plugins)
    member = register(store, brand, DAY0)
    buy(engine, brand, member, DAY0 - timedelta(days=200))  # long ago: the next event judges them DORMANT
    engine.handle(business_event("member.checked_in", {"brandId": brand, "memberId": member}, time=DAY0))
    query = "{ couponOffers { template { id } eligible reasons { code } } }"
    member_token = token("member", member, brand)
    _, body = call_graphql(query, token=member_token)
    [offer] = body["data"]["couponOffers"]
    assert offer["eligible"] is False and offer["reasons"] == [{"code": "STAGE"}]
    buy(engine, brand, member, DAY0 + timedelta(minutes=1))  # an order: ACTIVE at once
    _, body = call_graphql(query, token=member_token)
    assert body["data"]["couponOffers"][0]["eligible"] is True
