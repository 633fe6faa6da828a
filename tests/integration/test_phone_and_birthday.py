"""A member who signed in with WeChat adds a phone number (through WeChat's getPhoneNumber code) and a birthday."""

from datetime import timedelta

import pytest

from infra import keys
from infra.models import LookupItem, MemberItem
from infra.settings import settings
from infra.wechat import LocalWechatClient
from rules import phone
from rules.errors import AlreadyRegistered
from rules.members import LookupKind
from rules.profile import BirthdayChangeTooSoon, set_birthday
from tests.helpers import call_graphql, register, token

LOGIN = """mutation($brand: String!, $code: String!) { loginWithWechat(brandId: $brand, code: $code) {
  ... on LoggedIn { token member { id } } } }"""
BIND = """mutation($code: String!) { bindPhone(code: $code) { __typename
  ... on PhoneBound { phoneMasked } ... on BusinessError { code message } ... on AlreadyRegistered { field } ... on InvalidInput { field } } }"""
BIRTHDAY = """mutation($b: String) { updateProfile(input: {birthday: $b}) { __typename
  ... on ProfileUpdated { member { birthday nickname } } ... on BusinessError { code message }
  ... on BirthdayChangeTooSoon { nextChangeAt } } }"""


def signed_in(brand_id: str, code: str) -> tuple[str, str]:
    _, body = call_graphql(LOGIN, {"brand": brand_id, "code": code})
    answer = body["data"]["loginWithWechat"]
    return answer["token"], answer["member"]["id"]


def the_number(brand_id: str, code: str) -> str:
    return LocalWechatClient().phone_answer(brand_id, code)["phone_info"]["purePhoneNumber"]


def test_a_wechat_member_binds_the_number_wechat_vouches_for_stored_hashed_and_masked(brand_id):
    member_token, member_id = signed_in(brand_id, "phone-alice")
    _, body = call_graphql(BIND, {"code": "getphone-alice"}, member_token)
    number = the_number(brand_id, "getphone-alice")
    assert body["data"]["bindPhone"] == {"__typename": "PhoneBound", "phoneMasked": phone.mask(number)}
    item = MemberItem.get(keys.member_pk(brand_id, member_id), keys.PROFILE)
    hashed = phone.phone_hash(number, settings().phone_hash_key)
    assert item.phone_hash == hashed and number not in str(item.attribute_values)
    lookup = LookupItem.get(keys.lookup_pk(brand_id, LookupKind.PHONE, hashed), keys.LOOKUP)
    assert lookup.member_id == member_id
    _, me = call_graphql("{ me { phoneMasked } }", token=member_token)
    assert me["data"]["me"]["phoneMasked"] == phone.mask(number)


def test_binding_the_same_number_again_changes_nothing(brand_id):
    member_token, _ = signed_in(brand_id, "phone-bob")
    first = call_graphql(BIND, {"code": "getphone-bob"}, member_token)[1]["data"]["bindPhone"]
    again = call_graphql(BIND, {"code": "getphone-bob"}, member_token)[1]["data"]["bindPhone"]
    assert first == again and again["__typename"] == "PhoneBound"


def test_a_number_another_member_already_has_is_refused_and_stays_theirs(store, brand_id, now):
    number = the_number(brand_id, "getphone-taken")
    owner = register(store, brand_id, now, phone=number)
    member_token, member_id = signed_in(brand_id, "phone-carol")
    _, body = call_graphql(BIND, {"code": "getphone-taken"}, member_token)
    refusal = body["data"]["bindPhone"]
    assert refusal["__typename"] == "AlreadyRegistered" and refusal["field"] == "phone"
    hashed = phone.phone_hash(number, settings().phone_hash_key)
    assert LookupItem.get(keys.lookup_pk(brand_id, LookupKind.PHONE, hashed), keys.LOOKUP).member_id == owner
    assert MemberItem.get(keys.member_pk(brand_id, member_id), keys.PROFILE).phone_hash is None


def test_a_new_number_replaces_the_old_one_and_frees_it_for_others(store, brand_id):
    member_token, member_id = signed_in(brand_id, "phone-dave")
    call_graphql(BIND, {"code": "getphone-dave-1"}, member_token)
    call_graphql(BIND, {"code": "getphone-dave-2"}, member_token)
    key = settings().phone_hash_key
    old = phone.phone_hash(the_number(brand_id, "getphone-dave-1"), key)
    new = phone.phone_hash(the_number(brand_id, "getphone-dave-2"), key)
    assert store.find_member_id(brand_id, LookupKind.PHONE, old) is None
    assert store.find_member_id(brand_id, LookupKind.PHONE, new) == member_id


def test_a_code_wechat_refuses_is_a_clear_error_and_binds_nothing(brand_id):
    member_token, member_id = signed_in(brand_id, "phone-erin")
    _, body = call_graphql(BIND, {"code": "invalid-code"}, member_token)
    assert body["data"]["bindPhone"]["__typename"] == "InvalidInput"
    assert body["data"]["bindPhone"]["field"] == "code"
    assert body["data"]["bindPhone"]["message"] == "手机号授权码无效、已使用或已过期，请重新授权"
    assert MemberItem.get(keys.member_pk(brand_id, member_id), keys.PROFILE).phone_hash is None


def test_only_a_member_can_bind_a_phone(brand_id):
    _, body = call_graphql(BIND, {"code": "x"}, token("staff", "s1", brand_id))
    assert body["errors"] and body["data"] is None


def test_a_member_sets_a_birthday_and_the_nickname_stays(store, brand_id):
    member_token, member_id = signed_in(brand_id, "birthday-fay")
    store.set_nickname(brand_id, member_id, "阿菲")
    _, body = call_graphql(BIRTHDAY, {"b": "--03-01"}, member_token)
    assert body["data"]["updateProfile"] == {"__typename": "ProfileUpdated",
                                             "member": {"birthday": "--03-01", "nickname": "阿菲"}}


def test_the_birthday_changes_at_most_once_a_year(store, brand_id, now):
    member_id = register(store, brand_id, now - timedelta(days=30))
    set_birthday(store, brand_id, member_id, "--05-20", now=now)
    set_birthday(store, brand_id, member_id, "--05-20", now=now + timedelta(days=1))  # the same: nothing to change
    with pytest.raises(BirthdayChangeTooSoon) as refused:
        set_birthday(store, brand_id, member_id, "--06-01", now=now + timedelta(days=200))
    assert refused.value.next_change_at == now + timedelta(days=365)
    assert store.load_member(brand_id, member_id).profile.birthday == "--05-20"
    set_birthday(store, brand_id, member_id, "--06-01", now=now + timedelta(days=365))
    assert store.load_member(brand_id, member_id).profile.birthday == "--06-01"


def test_a_birthday_given_at_registration_counts_as_set_that_day(store, brand_id, now):
    member_id = register(store, brand_id, now, birthday="--01-15")
    with pytest.raises(BirthdayChangeTooSoon):
        set_birthday(store, brand_id, member_id, "--02-15", now=now + timedelta(days=10))


def test_a_second_birthday_change_through_the_api_is_a_typed_refusal(brand_id):
    member_token, _ = signed_in(brand_id, "birthday-gus")
    assert call_graphql(BIRTHDAY, {"b": "--07-07"}, member_token)[1]["data"]["updateProfile"]["__typename"] \
        == "ProfileUpdated"
    refused = call_graphql(BIRTHDAY, {"b": "--08-08"}, member_token)[1]["data"]["updateProfile"]
    assert refused["__typename"] == "BirthdayChangeTooSoon" and refused["code"] == "BIRTHDAY_CHANGE_TOO_SOON"
    bad = call_graphql(BIRTHDAY, {"b": "--02-30"}, member_token)[1]["data"]["updateProfile"]
    assert bad["__typename"] == "InvalidInput"


def test_rules_refuse_another_members_number_with_already_registered(store, brand_id, now):
    from rules.profile import bind_phone

    number = the_number(brand_id, "rules-taken")
    register(store, brand_id, now, phone=number)
    other = register(store, brand_id, now)
    with pytest.raises(AlreadyRegistered):
        bind_phone(store, brand_id, other, number, phone_key=settings().phone_hash_key)
