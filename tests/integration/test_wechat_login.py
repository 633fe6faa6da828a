"""loginWithWechat: a mini-program code in, a short-lived member token out; the WeChat ids never leave Siyu."""

import threading
import uuid
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from infra import keys
from infra.models import LookupItem, MemberItem, SiyuItem
from infra.settings import settings
from infra.wechat import LocalWechatClient
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.members import LookupKind, lookup_value
from tests.helpers import call_graphql, error_codes, new_phone, token

LOGIN = """mutation($brand: String!, $code: String!) { loginWithWechat(brandId: $brand, code: $code) {
  __typename ... on LoggedIn { token expiresAt created member { id phoneMasked tier { code } } }
  ... on BusinessError { code message } } }"""


def login(brand_id: str, code: str) -> dict:
    status, body = call_graphql(LOGIN, {"brand": brand_id, "code": code})
    assert status == 200 and "errors" not in body, body
    return body["data"]["loginWithWechat"]


def test_a_first_login_registers_a_member_without_a_phone_and_the_token_reaches_them(brand_id):
    first = login(brand_id, "alice")
    assert first["__typename"] == "LoggedIn" and first["created"] is True
    assert first["member"]["phoneMasked"] is None and first["member"]["tier"]["code"] == "PU"
    _, me = call_graphql("{ me { id phoneMasked points { balance } } }", token=first["token"])
    assert me["data"]["me"] == {"id": first["member"]["id"], "phoneMasked": None, "points": {"balance": 0}}


def test_the_same_person_logging_in_again_is_the_same_member(brand_id):
    first, again = login(brand_id, "bob"), login(brand_id, "bob")
    assert again["created"] is False and again["member"]["id"] == first["member"]["id"]
    assert login(brand_id, "carol")["member"]["id"] != first["member"]["id"]


def test_the_same_person_in_another_brand_is_another_member(store, brand_id):
    other = brand_id + "x"
    store.put_brand(BrandConfig(other, "另一品牌", BAIGUOYUAN_LADDER))
    assert login(brand_id, "dave")["member"]["id"] != login(other, "dave")["member"]["id"]


def test_a_member_registered_by_staff_with_a_unionid_is_found_by_it(brand_id):
    unionid = LocalWechatClient().answer(brand_id, "erin")["unionid"]
    staff = token("staff", "s1", brand_id)
    _, created = call_graphql("""mutation($input: RegisterMemberInput!) { registerMember(input: $input) {
        ... on RegisterMemberSuccess { member { id } } } }""",
                              {"input": {"phone": new_phone(), "channel": "store", "unionid": unionid}}, staff)
    member_id = created["data"]["registerMember"]["member"]["id"]
    signed_in = login(brand_id, "erin")
    assert signed_in["created"] is False and signed_in["member"]["id"] == member_id
    assert signed_in["member"]["phoneMasked"] is not None


def test_the_member_token_lives_two_hours_by_default_and_as_configured(brand_id, configure):
    claims = jwt.decode(login(brand_id, "frank")["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 2 * 3600
    assert claims["role"] == "member" and claims["brand"] == brand_id and claims["iss"] == settings().jwt_issuer
    configure(SIYU_MEMBER_TOKEN_MINUTES="15")
    claims = jwt.decode(login(brand_id, "frank")["token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 15 * 60


@pytest.fixture
def alone(fresh_table, store):
    """A brand alone in a table of its own: the tests that read the whole table read only what they wrote."""
    brand = f"alone{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "独立品牌", BAIGUOYUAN_LADDER))
    return brand


def test_a_refused_code_is_a_typed_result_and_registers_nobody(alone):
    brand_id = alone
    for code in ("invalid-used-code", "has spaces", "x" * 200, ""):
        refused = login(brand_id, code)
        assert refused["__typename"] == "InvalidLoginCode" and refused["code"] == "INVALID_LOGIN_CODE", code
    assert not [i for i in SiyuItem.scan() if isinstance(i, MemberItem) and i.brand_id == brand_id]


def test_an_unknown_brand_is_a_typed_result(dynamodb_endpoint):
    assert login("no-such-brand", "alice")["__typename"] == "BrandNotConfigured"
    assert login("\x00bad", "alice")["__typename"] == "InvalidInput"


def test_a_login_needs_no_token_and_ignores_a_bad_one(brand_id):
    _, body = call_graphql(LOGIN, {"brand": brand_id, "code": "gina"}, token="garbage")
    assert body["data"]["loginWithWechat"]["__typename"] == "LoggedIn"


def test_neither_the_ids_nor_the_session_key_are_returned_or_stored(alone):
    brand_id = alone
    answer = LocalWechatClient().answer(brand_id, "henry")
    _, body = call_graphql(LOGIN, {"brand": brand_id, "code": "henry"})
    for secret in (answer["openid"], answer["unionid"], answer["session_key"]):
        assert secret not in str(body)
    member_id = body["data"]["loginWithWechat"]["member"]["id"]
    items = [i.serialize() for i in SiyuItem.scan()]
    stored = str(items)
    for secret in (answer["openid"], answer["unionid"], answer["session_key"]):
        assert secret not in stored
    key = settings().phone_hash_key
    for kind in (LookupKind.OPENID, LookupKind.UNIONID):
        hashed = lookup_value(kind, answer[kind.value], key)
        assert LookupItem.get(keys.lookup_pk(brand_id, kind, hashed), keys.LOOKUP).member_id == member_id


def test_two_first_logins_racing_end_with_one_member(store, alone, now):
    brand_id = alone
    from rules.login import member_for_wechat

    answer = LocalWechatClient().answer(brand_id, "ivy")
    start = threading.Barrier(4)
    results = []

    def first_login():
        start.wait()
        results.append(member_for_wechat(store, brand_id=brand_id, openid=answer["openid"],
                                         unionid=answer["unionid"], now=now, key=settings().phone_hash_key))

    threads = [threading.Thread(target=first_login) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and len({r.member_id for r in results}) == 1
    assert [r.created for r in results].count(True) == 1
    members = [i for i in SiyuItem.scan() if isinstance(i, MemberItem) and i.brand_id == brand_id]
    assert len(members) == 1


# ---- the token a login returns, misused ----------------------------------------------------------------------------


@pytest.fixture
def signed_in(brand_id):
    result = login(brand_id, "jack")
    return brand_id, result["member"]["id"], result["token"]


def test_the_login_token_reads_its_member_and_nothing_staff_only(signed_in):
    brand_id, member_id, member_token = signed_in
    _, me = call_graphql("{ me { id } }", token=member_token)
    assert me["data"]["me"]["id"] == member_id
    _, staff_only = call_graphql("{ plugins { name } }", token=member_token)
    assert staff_only["data"] is None and error_codes(staff_only) == ["FORBIDDEN"]


@pytest.mark.parametrize("misuse, code", [
    ("expired", "UNAUTHENTICATED"),
    ("forged", "UNAUTHENTICATED"),
    ("wrong-issuer", "UNAUTHENTICATED"),
    ("unknown-role", "UNAUTHENTICATED"),
    ("brand-swapped-unsigned", "UNAUTHENTICATED"),
    ("other-brand", "NOT_FOUND"),
])
def test_misused_member_tokens_are_refused_with_their_code(signed_in, misuse, code):
    brand_id, member_id, member_token = signed_in
    config = settings()
    now = datetime.now(timezone.utc)
    claims = jwt.decode(member_token, config.jwt_secret, algorithms=["HS256"], issuer=config.jwt_issuer)
    sign = lambda c, secret=config.jwt_secret: jwt.encode(c, secret, algorithm="HS256")  # noqa: E731
    bad = {
        "expired": lambda: token("member", member_id, brand_id, now=now - timedelta(hours=3), ttl=timedelta(hours=2)),
        "forged": lambda: sign(claims, "an-attackers-guess-at-the-secret-0123456789"),
        "wrong-issuer": lambda: sign(claims | {"iss": "someone-else"}),
        "unknown-role": lambda: sign(claims | {"role": "admin"}),
        "brand-swapped-unsigned": lambda: _swap_payload(member_token, claims | {"brand": brand_id + "x"}),
        "other-brand": lambda: sign(claims | {"brand": brand_id + "x"}),  # well signed, but names no one there
    }[misuse]()
    _, body = call_graphql("{ me { id points { balance } } }", token=bad)
    assert body["data"] is None and error_codes(body) == [code]
    assert member_id not in str(body)


def test_a_staff_token_is_refused_on_member_fields_and_a_member_token_on_staff_fields(signed_in):
    brand_id, member_id, member_token = signed_in
    _, body = call_graphql("{ me { id } }", token=token("staff", "s1", brand_id))
    assert error_codes(body) == ["FORBIDDEN"]
    _, body = call_graphql('mutation($id: ID!) { adjustPoints(input: {memberId: $id, points: 5, reason: "x", '
                           'idempotencyKey: "k"}) { __typename } }', {"id": member_id}, member_token)
    assert error_codes(body) == ["FORBIDDEN"]


def _swap_payload(signed: str, claims: dict) -> str:
    """The same header and signature around a different payload: what tampering in transit looks like."""
    import base64
    import json

    header, _, signature = signed.split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{payload}.{signature}"


def test_logins_naming_many_unknown_brands_do_not_grow_the_brand_cache_without_bound(dynamodb_endpoint, monkeypatch):
    from infra import dynamo_store as store_module
    from infra.dynamo_store import DynamoStore

    monkeypatch.setattr(store_module, "BRAND_CACHE_SIZE", 8)
    cache = DynamoStore()
    for i in range(30):
        assert cache.get_brand(f"nobody{i}") is None
    assert len(cache._brand_cache) == 8 and "nobody29" in cache._brand_cache
