"""Registration: one member per phone number per brand, lookups kept unique by conditional writes."""

import pytest

from infra import keys
from infra.settings import settings
from rules import phone
from rules.errors import AlreadyRegistered, BrandNotConfigured, InvalidInput
from rules.members import LookupKind, lookup_value
from tests.helpers import new_phone, register


def test_a_registered_member_is_found_by_phone_openid_and_referral_code(store, brand_id, now):
    number = new_phone()
    member_id = register(store, brand_id, now, phone=number, openid="o-abc", unionid="u-abc")
    profile = store.load_member(brand_id, member_id).profile
    hashed = phone.phone_hash(number, settings().phone_hash_key)
    assert store.find_member_id(brand_id, LookupKind.PHONE, hashed) == member_id
    key = settings().phone_hash_key
    assert store.find_member_id(brand_id, LookupKind.OPENID, lookup_value(LookupKind.OPENID, "o-abc", key)) == member_id
    assert store.find_member_id(brand_id, LookupKind.UNIONID, lookup_value(LookupKind.UNIONID, "u-abc", key)) == member_id
    assert store.find_member_id(brand_id, LookupKind.OPENID, "o-abc") is None  # only the keyed hash is stored
    assert store.find_member_id(brand_id, LookupKind.REFERRAL_CODE, profile.referral_code) == member_id
    assert profile.phone_masked == f"{number[:3]}****{number[-4:]}"
    assert profile.tier_code == "PU"


def test_the_same_phone_written_differently_cannot_register_twice_in_one_brand(store, brand_id, now):
    number = new_phone()
    register(store, brand_id, now, phone=number)
    with pytest.raises(AlreadyRegistered) as refused:
        register(store, brand_id, now, phone=f"+86 {number[:3]}-{number[3:7]}-{number[7:]}")
    assert refused.value.field == "phone"


def test_the_same_phone_may_join_another_brand(store, brand_id, now):
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig

    store.put_brand(BrandConfig(brand_id + "x", "另一品牌", BAIGUOYUAN_LADDER))
    number = new_phone()
    first = register(store, brand_id, now, phone=number)
    second = register(store, brand_id + "x", now, phone=number)
    assert first != second


def test_an_openid_already_bound_to_a_member_is_refused_and_nothing_is_written(store, brand_id, now):
    register(store, brand_id, now, openid="o-taken")
    number = new_phone()
    with pytest.raises(AlreadyRegistered) as refused:
        register(store, brand_id, now, phone=number, openid="o-taken")
    assert refused.value.field == "openid"
    # The phone lookup of the refused registration was not left behind.
    hashed = phone.phone_hash(number, settings().phone_hash_key)
    assert store.find_member_id(brand_id, LookupKind.PHONE, hashed) is None


def test_registration_needs_a_configured_brand_and_a_known_channel(store, brand_id, now):
    with pytest.raises(BrandNotConfigured):
        register(store, "no-such-brand", now)
    with pytest.raises(InvalidInput) as refused:
        register(store, brand_id, now, channel="fax")
    assert refused.value.field == "channel"


def test_the_phone_number_itself_is_stored_nowhere(store, brand_id, now, dynamodb):
    number = new_phone()
    member_id = register(store, brand_id, now, phone=number)
    items = dynamodb.query(TableName=settings().table_name, KeyConditionExpression="pk = :pk",
                           ExpressionAttributeValues={":pk": {"S": keys.member_pk(brand_id, member_id)}})["Items"]
    assert items
    assert number not in repr(items)
