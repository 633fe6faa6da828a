"""Tenancy: a member token reaches only that member; a staff token reaches only its brand."""

from datetime import datetime, timedelta, timezone

import pytest

from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.helpers import call_graphql, earn, error_codes, register, token

NOW = datetime.now(timezone.utc)
MEMBER = "query($id: ID!) { member(id: $id) { id points { balance } } }"
ADJUST = """mutation($id: ID!) { adjustPoints(input: {memberId: $id, points: 1000, reason: "x", idempotencyKey: "k"}) {
  __typename } }"""


@pytest.fixture
def two_brands(store, brand_id):
    other = brand_id + "o"
    store.put_brand(BrandConfig(other, "另一品牌", BAIGUOYUAN_LADDER))
    ours = register(store, brand_id, NOW)
    theirs = register(store, other, NOW)
    earn(store, other, theirs, 100, NOW)
    return brand_id, ours, other, theirs


def test_a_member_cannot_look_up_another_member(two_brands):
    brand, ours, _, _ = two_brands
    neighbour = register_in(brand)
    _, body = call_graphql(MEMBER, {"id": neighbour}, token("member", ours, brand))
    assert (body["data"] or {}).get("member") is None and error_codes(body) == ["FORBIDDEN"]


def register_in(brand):
    from api.app import store

    return register(store(), brand, NOW)


def test_me_is_always_the_token_holder(two_brands):
    brand, ours, _, _ = two_brands
    _, body = call_graphql("{ me { id } }", token=token("member", ours, brand))
    assert body["data"]["me"]["id"] == ours


def test_a_member_token_naming_another_brands_member_finds_nobody(two_brands):
    brand, _, _, theirs = two_brands
    _, body = call_graphql("{ me { id points { balance } } }", token=token("member", theirs, brand))
    assert body["data"] is None and error_codes(body) == ["NOT_FOUND"]


def test_staff_cannot_read_or_change_another_brands_member(two_brands, store):
    brand, _, other, theirs = two_brands
    staff = token("staff", "s1", brand)
    _, read = call_graphql(MEMBER, {"id": theirs}, staff)
    assert read == {"data": {"member": None}}
    _, change = call_graphql(ADJUST, {"id": theirs}, staff)
    assert change["data"]["adjustPoints"]["__typename"] == "MemberNotFound"
    assert store.load_member(other, theirs).points.balance == 100


def test_staff_of_the_right_brand_can_read_its_member(two_brands):
    _, _, other, theirs = two_brands
    _, body = call_graphql(MEMBER, {"id": theirs}, token("staff", "s2", other))
    assert body["data"]["member"] == {"id": theirs, "points": {"balance": 100}}


@pytest.mark.parametrize("operation", ["{ me { id } }", MEMBER, ADJUST,
                                       'mutation { registerMember(input: {phone: "13800138000", channel: "h5"}) '
                                       '{ __typename } }'])
def test_without_a_token_every_operation_is_unauthenticated(operation, two_brands):
    _, body = call_graphql(operation, {"id": two_brands[1]})
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_roles_are_enforced_both_ways(two_brands):
    brand, ours, _, _ = two_brands
    _, staff_me = call_graphql("{ me { id } }", token=token("staff", "s1", brand))
    assert error_codes(staff_me) == ["FORBIDDEN"]
    _, member_adjusts = call_graphql(ADJUST, {"id": ours}, token("member", ours, brand))
    assert error_codes(member_adjusts) == ["FORBIDDEN"]


@pytest.mark.parametrize("bad_token", [
    lambda m, b: token("member", m, b, secret="not-the-secret-" * 3),
    lambda m, b: token("member", m, b, issuer="someone-else"),
    lambda m, b: token("member", m, b, now=NOW - timedelta(hours=3), ttl=timedelta(hours=1)),
    lambda m, b: token("member", m, b)[:-4] + "AAAA",
    lambda m, b: "not-a-jwt",
], ids=["forged", "wrong-issuer", "expired", "tampered", "garbage"])
def test_forged_expired_and_foreign_tokens_are_refused(bad_token, two_brands):
    brand, ours, _, _ = two_brands
    _, body = call_graphql("{ me { id } }", token=bad_token(ours, brand))
    assert body["data"] is None and error_codes(body) == ["UNAUTHENTICATED"]
