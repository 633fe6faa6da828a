"""exportMyData: every piece of personal data Siyu holds on the member, item types it does not know yet included."""

import json
from datetime import datetime, timedelta, timezone

from pynamodb.attributes import UnicodeAttribute

from infra import keys
from infra.models import SiyuItem
from infra.settings import settings
from rules import phone
from rules.engine import Engine
from tests.helpers import business_event, call_graphql, error_codes, new_phone, order_paid, token

NOW = datetime.now(timezone.utc)
REGISTER = """mutation($phone: String!) { registerMember(input: {phone: $phone, channel: "miniprogram",
  openid: "o-export-1", unionid: "u-export-1", nickname: "小橙子", birthday: "--05-20"}) {
  ... on RegisterMemberSuccess { member { id nickname birthday } } } }"""
EXPORT = "{ exportMyData { memberId exportedAt itemCounts data } }"


class FutureCouponItem(SiyuItem, discriminator="test-coupon"):
    """Stands for an item type added after the export was written (the integrator's coupons)."""

    template = UnicodeAttribute()
    status = UnicodeAttribute()


def test_the_export_holds_the_profile_consents_points_activity_and_every_stored_item(store, rules_brand, plugins,
                                                                                     dynamodb):
    number = new_phone()
    _, registered = call_graphql(REGISTER, {"phone": number}, token("staff", "s1", rules_brand))
    member = registered["data"]["registerMember"]["member"]
    assert (member["nickname"], member["birthday"]) == ("小橙子", "--05-20")
    member_id = member["id"]
    member_token = token("member", member_id, rules_brand)
    call_graphql('mutation { setConsent(input: {purpose: MARKETING_MESSAGES, granted: true, policyVersion: "v3"}) '
                 '{ __typename } }', token=member_token)
    Engine(store, plugins).handle(business_event("order.paid", order_paid(rules_brand, member_id, 12900,
                                                                          order_id="o-exp"), time=NOW))
    call_graphql('mutation { redeemPoints(input: {points: 29, idempotencyKey: "r-1"}) { __typename } }',
                 token=member_token)
    FutureCouponItem(keys.member_pk(rules_brand, member_id), "COUPON#c-1", template="t-50-10",
                     status="issued").save()
    dynamodb.put_item(TableName=settings().table_name, Item={  # a type no model in this code knows
        "pk": {"S": keys.ledger_pk(rules_brand, member_id)}, "sk": {"S": "FUTURE#k-1"},
        "type": {"S": "test-unknown-kind"}, "fen": {"N": "1000"}, "state": {"S": "pending"}})

    _, body = call_graphql(EXPORT, token=member_token)
    export = body["data"]["exportMyData"]
    data = export["data"]
    assert export["memberId"] == data["memberId"] == member_id
    profile = data["profile"]
    assert profile["phoneMasked"] == f"{number[:3]}****{number[-4:]}"
    assert profile["phoneHash"].startswith("withheld")
    assert any("never stores your phone number" in note for note in data["notes"])
    assert (profile["wechatOpenid"], profile["wechatUnionid"], profile["nickname"], profile["birthday"]) == (
        "linked (kept only as a keyed hash)", "linked (kept only as a keyed hash)", "小橙子", "--05-20")
    assert (profile["tier"]["code"], profile["growth"], profile["points"]["balance"]) == ("PU", 129, 100)
    assert data["consents"]["marketing_messages"]["granted"] is True
    assert data["consents"]["marketing_messages"]["history"][0]["policyVersion"] == "v3"
    assert data["consents"]["behaviour_analytics"] == {"granted": False, "history": []}
    assert [lookup["kind"] for lookup in data["lookups"]] == ["phone", "openid", "unionid", "referralCode"]

    kinds = export["itemCounts"]
    # The order's item holds its markers, and the order.paid's effects and ledger entry; the redemption's entry
    # is an item of its own.
    for kind in ("member", "lot", "order", "consent", "request", "entry", "test-coupon", "test-unknown-kind"):
        assert kinds.get(kind), f"no {kind} item in the export: {kinds}"
    items = {(i["partition"], i["type"]): i for i in data["items"]}
    assert items[("member", "test-coupon")]["attributes"] == {"template": "t-50-10", "status": "issued"}
    assert items[("history", "test-unknown-kind")]["attributes"] == {"fen": 1000, "state": "pending"}
    entries = [i["attributes"] for i in data["items"] if i["type"] == "entry"] + [
        e for i in data["items"] for e in i["attributes"].get("entries", ())]
    assert sorted(e["points"] for e in entries) == [-29, 129]
    order = items[("history", "order")]["attributes"]
    assert "points:order:o-exp" in order["marks"] and order["detail_type"] == "order.paid"
    assert items[("member", "member")]["attributes"]["phone_hash"].startswith("withheld")
    assert sum(kinds.values()) == len(data["items"])

    # Neither the number nor its hash leave Siyu, in any form.
    text = json.dumps(body, ensure_ascii=False)
    assert number not in text and phone.phone_hash(number, settings().phone_hash_key) not in text


def test_only_a_member_exports_and_only_their_own_data(store, rules_brand):
    from tests.helpers import register

    member = register(store, rules_brand, NOW - timedelta(days=1))
    _, staff = call_graphql(EXPORT, token=token("staff", "s1", rules_brand))
    assert error_codes(staff) == ["FORBIDDEN"]
    _, foreign = call_graphql(EXPORT, token=token("member", member, rules_brand + "x"))
    assert error_codes(foreign) == ["NOT_FOUND"]
