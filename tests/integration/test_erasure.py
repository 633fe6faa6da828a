"""deleteMyAccount / eraseMember: personal data and lookups gone, the anonymised ledger kept to the point."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from pynamodb.attributes import UnicodeAttribute

from infra import keys
from infra.models import SiyuItem
from infra.settings import settings
from rules import entry_codec, phone, points
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, call_graphql, error_codes, new_phone, order_paid, register, \
    scheduled_event, token

NOW = datetime.now(timezone.utc)
BRAND = "erasure-brand"
REGISTER = """mutation($phone: String!, $openid: String, $unionid: String, $nickname: String) {
  registerMember(input: {phone: $phone, channel: "miniprogram", openid: $openid, unionid: $unionid,
                         nickname: $nickname, birthday: "--07-07"}) {
    __typename ... on RegisterMemberSuccess { member { id } } } }"""
DELETE = """mutation { deleteMyAccount { __typename
  ... on AccountErased { memberId erasedAt freedLookups alreadyErased } ... on MemberNotFound { memberId } } }"""
ERASE = """mutation($id: ID!) { eraseMember(id: $id) { __typename
  ... on AccountErased { memberId freedLookups alreadyErased } } }"""


class FutureBindingItem(SiyuItem, discriminator="test-wechat-binding"):
    """Stands for a later item type that copies personal data into the member's partition."""

    openid = UnicodeAttribute(null=True)
    nickname = UnicodeAttribute(null=True)
    scene = UnicodeAttribute()


def scan(dynamodb) -> list[dict]:
    items: list[dict] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=settings().table_name):
        items += page["Items"]
    return items


def texts(value):
    """Every string in an item, keys included, with JSON attributes decoded (they keep non-ASCII as escapes)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from texts(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from texts(inner)
    elif isinstance(value, str):
        yield value
        if value[:1] in "[{":
            try:
                yield from texts(json.loads(value))
            except ValueError:
                pass


def brand_totals(dynamodb) -> dict[str, int]:
    """Accounting, straight from the table: the sum of balances, of ledger entries and of lot remainders."""
    totals = {"balances": 0, "entries": 0, "lots": 0}
    for item in scan(dynamodb):
        if not item["pk"]["S"].startswith(f"BRAND#{BRAND}#MEMBER#"):
            continue
        kind = item["type"]["S"]
        if kind == "member":
            totals["balances"] += int(item["balance"]["N"])
        elif kind == "entry":
            totals["entries"] += int(item["points"]["N"])
        elif kind in ("order", "activity") and "en" in item:
            # An event's entries, packed in its history item (rules/entry_codec.py).
            totals["entries"] += sum(int(row["p"]) for row in entry_codec.unpack(item["en"]["B"]))
        elif kind == "lot":
            totals["lots"] += int(item["remaining"]["N"])
    return totals


@pytest.fixture
def brand(fresh_table, store, plugins):
    store.put_brand(BrandConfig(BRAND, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, BRAND, now=NOW, plugin_settings=[
        (name, True, {}) for name in ("points", "tiers", "points_expiry")])
    return BRAND


def join(number, openid, unionid, nickname):
    _, body = call_graphql(REGISTER, {"phone": number, "openid": openid, "unionid": unionid, "nickname": nickname},
                           token("staff", "care-desk-1", BRAND))
    return body["data"]["registerMember"]


def test_after_deleting_their_account_nothing_in_the_table_holds_the_members_identity_and_totals_are_unchanged(
        brand, store, plugins, dynamodb):
    engine = Engine(store, plugins)
    number, openid, unionid, nickname = new_phone(), "o-erase-me-1", "u-erase-me-1", "橙子不酸"
    member = join(number, openid, unionid, nickname)["member"]["id"]
    bystander = register(store, BRAND, NOW)
    member_token = token("member", member, BRAND)
    call_graphql('mutation { setConsent(input: {purpose: MARKETING_MESSAGES, granted: true, policyVersion: "v1"}) '
                 '{ __typename } }', token=member_token)
    for who, fen in ((member, 260000), (bystander, 50000)):
        engine.handle(business_event("order.paid", order_paid(BRAND, who, fen), time=NOW - timedelta(days=2)))
    call_graphql('mutation { redeemPoints(input: {points: 600, idempotencyKey: "spend-1"}) { __typename } }',
                 token=member_token)
    FutureBindingItem(keys.member_pk(BRAND, member), "BINDING#1", openid=openid, nickname=nickname,
                      scene="store-qr").save()
    hashed = phone.phone_hash(number, settings().phone_hash_key)
    before = brand_totals(dynamodb)
    assert before == {"balances": 2600 - 600 + 500, "entries": 2500, "lots": 2500}
    assert hashed in repr(scan(dynamodb))

    _, body = call_graphql(DELETE, token=member_token)
    erased = body["data"]["deleteMyAccount"]
    assert erased["__typename"] == "AccountErased" and erased["memberId"] == member
    assert sorted(erased["freedLookups"]) == ["openid", "phone", "referralCode", "unionid"]
    assert erased["alreadyErased"] is False

    everything = "\n".join(text for item in scan(dynamodb) for text in texts(item))
    for secret in (number, hashed, openid, unionid, nickname):
        assert secret not in everything, f"{secret!r} is still in the table"
    assert brand_totals(dynamodb) == before
    assert points.reconcile(store, BRAND, member) == {"balance": 2000, "entries": 2000, "lots": 2000}

    # The same phone and WeChat account join again, as someone new.
    again = join(number, openid, unionid, nickname)
    assert again["__typename"] == "RegisterMemberSuccess" and again["member"]["id"] != member


def test_an_erased_member_is_refused_cleanly_everywhere(brand, store, plugins, bus):
    engine = Engine(store, plugins, bus)
    member = register(store, BRAND, NOW - timedelta(days=400), openid="o-gone")
    engine.handle(business_event("order.paid", order_paid(BRAND, member, 10000), time=NOW - timedelta(days=364)))
    member_token = token("member", member, BRAND)
    assert call_graphql(DELETE, token=member_token)[1]["data"]["deleteMyAccount"]["alreadyErased"] is False

    _, me = call_graphql("{ me { id } }", token=member_token)
    assert error_codes(me) == ["NOT_FOUND"]
    _, spend = call_graphql('mutation { redeemPoints(input: {points: 1, idempotencyKey: "k"}) { __typename } }',
                            token=member_token)
    assert spend["data"]["redeemPoints"]["__typename"] == "MemberNotFound"
    _, consent = call_graphql('mutation { setConsent(input: {purpose: MARKETING_MESSAGES, granted: true, '
                              'policyVersion: "v1"}) { __typename } }', token=member_token)
    assert consent["data"]["setConsent"]["__typename"] == "MemberNotFound"
    _, nick = call_graphql('mutation { updateProfile(input: {nickname: "回来了"}) { __typename } }',
                           token=member_token)
    assert nick["data"]["updateProfile"]["__typename"] == "MemberNotFound"
    _, staff = call_graphql("query($id: ID!) { member(id: $id) { id } }", {"id": member},
                            token("staff", "s1", BRAND))
    assert staff == {"data": {"member": None}}

    late = engine.handle(business_event("order.paid", order_paid(BRAND, member, 5000), time=NOW)).as_dict()
    assert (late["status"], late["field"]) == ("rejected", "detail.memberId") and "erased" in late["reason"]
    # The daily sweep passes its lots by without writing them off or complaining.
    sweep = engine.handle(scheduled_event(NOW + timedelta(days=2))).as_dict()
    assert sweep["status"] == "applied" and sweep["effects"] == []
    assert points.reconcile(store, BRAND, member)["balance"] == 100
    assert [p.event_id for p in store.problems(BRAND, first=10, after=None).items] == [late["eventId"]]

    # Asking again changes nothing and says so.
    assert call_graphql(DELETE, token=member_token)[1]["data"]["deleteMyAccount"]["alreadyErased"] is True


def test_staff_erase_a_member_of_their_own_brand_only(brand, store):
    member = register(store, BRAND, NOW, openid="o-desk")
    store.put_brand(BrandConfig(BRAND + "-other", "别家", BAIGUOYUAN_LADDER))
    _, foreign = call_graphql(ERASE, {"id": member}, token("staff", "s9", BRAND + "-other"))
    assert foreign["data"]["eraseMember"]["__typename"] == "MemberNotFound"
    _, body = call_graphql(ERASE, {"id": member}, token("staff", "s1", BRAND))
    assert body["data"]["eraseMember"]["__typename"] == "AccountErased"
    assert sorted(body["data"]["eraseMember"]["freedLookups"]) == ["openid", "phone", "referralCode"]
    erased = store.load_member(BRAND, member, include_erased=True).profile
    assert erased.erased and erased.openid_hash is None and erased.phone_hash is None and erased.referral_code == ""


def test_a_nickname_is_set_at_registration_changed_by_the_member_and_checked(brand, store):
    member = register(store, BRAND, NOW, nickname="  小李  ")
    member_token = token("member", member, BRAND)
    assert call_graphql("{ me { nickname } }", token=member_token)[1]["data"]["me"]["nickname"] == "小李"
    update = 'mutation($n: String) { updateProfile(input: {nickname: $n}) { __typename ' \
             '... on ProfileUpdated { member { nickname } } ... on InvalidInput { field } } }'
    changed = call_graphql(update, {"n": "大李"}, member_token)[1]["data"]["updateProfile"]
    assert changed == {"__typename": "ProfileUpdated", "member": {"nickname": "大李"}}
    assert call_graphql(update, {"n": "x" * 33}, member_token)[1]["data"]["updateProfile"] == {
        "__typename": "InvalidInput", "field": "nickname"}
    cleared = call_graphql(update, {"n": " "}, member_token)[1]["data"]["updateProfile"]
    assert cleared["member"]["nickname"] is None


def test_an_invitee_who_deletes_their_account_leaves_coupons_commissions_and_their_inviters_list_anonymous(
        fresh_table, store, plugins, bus, dynamodb):
    from tests.integration.test_referrals import brand_with, code_of, commissions, join, pay

    engine = Engine(store, plugins, bus)
    brand = brand_with(store, plugins, brand_id=BRAND)
    inviter, _ = join(store, engine, brand, at=NOW - timedelta(days=3))
    number, openid, nickname = new_phone(), "o-invitee-9", "小邀请"
    invitee, _ = join(store, engine, brand, code_of(store, brand, inviter), at=NOW - timedelta(days=2),
                      phone=number, openid=openid, nickname=nickname)
    pay(engine, brand, invitee, 300, NOW - timedelta(days=1))
    assert store.load_member(brand, invitee).holdings.get("coupons")
    owed = commissions(store, brand, inviter)
    assert owed[0] > 0
    before = brand_totals(dynamodb)

    _, body = call_graphql(DELETE, token=token("member", invitee, brand))
    assert body["data"]["deleteMyAccount"]["__typename"] == "AccountErased"

    masked = f"{number[:3]}****{number[-4:]}"
    everything = "\n".join(text for item in scan(dynamodb) for text in texts(item))
    for secret in (number, phone.phone_hash(number, settings().phone_hash_key), openid, nickname, masked):
        assert secret not in everything, f"{secret!r} is still in the table"
    assert brand_totals(dynamodb) == before and commissions(store, brand, inviter) == owed
    # The inviter still sees that someone joined through them, and nothing about who.
    _, theirs = call_graphql("{ me { referrals { memberId } } }", token=token("member", inviter, brand))
    assert theirs["data"]["me"]["referrals"] == [{"memberId": invitee}]


def test_a_copy_a_family_keeps_in_another_partition_is_stripped_too(brand, store, dynamodb, monkeypatch):
    """A family that copies personal data outside the member's partitions declares where (`PERSONAL_COPIES`)."""
    from plugins.referral import storage as a_family_storage

    member = register(store, BRAND, NOW, nickname="远方的表")
    elsewhere = (keys.brand_pk(BRAND) + "#DIRECTORY", f"ENTRY#{member}")
    FutureBindingItem(*elsewhere, nickname="远方的表", scene="directory").save()
    finder = lambda brand_id, member_id: [elsewhere] if member_id == member else []  # noqa: E731
    monkeypatch.setattr(a_family_storage, "PERSONAL_COPIES", (finder,), raising=False)
    _, body = call_graphql(DELETE, token=token("member", member, BRAND))
    assert body["data"]["deleteMyAccount"]["__typename"] == "AccountErased"
    copy = FutureBindingItem.get(*elsewhere)
    assert copy.nickname is None and copy.scene == "directory"


def test_erasure_leaves_no_trace_of_a_birthday_in_the_events_explanations(brand, store, plugins, dynamodb):
    """A birthday order earns double; the explanation says the multiplier, never that it was the birthday."""
    engine = Engine(store, plugins)
    shanghai_today = (NOW + timedelta(hours=8)).strftime("--%m-%d")
    member = register(store, BRAND, NOW - timedelta(days=30), birthday=shanghai_today)
    engine.handle(business_event("order.paid", order_paid(BRAND, member, 10000), time=NOW))
    assert store.load_member(BRAND, member).points.balance == 200  # birthday 2x
    call_graphql(DELETE, token=token("member", member, BRAND))
    everything = "\n".join(text for item in scan(dynamodb) for text in texts(item))
    assert '"birthday"' not in everything and shanghai_today not in everything
