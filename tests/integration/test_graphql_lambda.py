"""The GraphQL API as Lambda runs it: API Gateway HTTP API (payload 2.0) events into `api.handler.handler`."""

from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import LambdaContext, call_graphql, earn, error_codes, http_api_event, new_phone, register, token

NOW = datetime.now(timezone.utc)

ME = """{ me { id phoneMasked referralCode growth tier { code name } nextTier { code growthNeeded }
  points { balance lots { remaining expiresAt } expiringWithin(days: 30) } } }"""


@pytest.fixture
def member(store, brand_id):
    number = new_phone()
    member_id = register(store, brand_id, NOW - timedelta(days=10), phone=number)
    earn(store, brand_id, member_id, 300, NOW - timedelta(days=5), days=20)
    earn(store, brand_id, member_id, 700, NOW - timedelta(days=5), days=200)
    return member_id, number


def test_a_member_reads_their_points_tier_and_masked_phone(brand_id, member):
    member_id, number = member
    status, body = call_graphql(ME, token=token("member", member_id, brand_id))
    assert status == 200, body
    me = body["data"]["me"]
    assert me["id"] == member_id
    assert me["phoneMasked"] == f"{number[:3]}****{number[-4:]}" and number not in str(body)
    assert me["tier"] == {"code": "PU", "name": "普卡"}
    assert me["nextTier"] == {"code": "YIN", "growthNeeded": 500}
    assert me["points"]["balance"] == 1000
    assert [lot["remaining"] for lot in me["points"]["lots"]] == [300, 700]
    assert me["points"]["expiringWithin"] == 300


def test_a_base64_encoded_body_is_accepted_as_api_gateway_may_send_it(brand_id, member):
    from api.handler import handler

    event = http_api_event("{ me { id } }", token=token("member", member[0], brand_id), base64_body=True)
    response = handler(event, LambdaContext())
    assert response["statusCode"] == 200 and member[0] in response["body"]


def test_staff_register_a_member_and_a_second_registration_with_that_phone_is_a_typed_refusal(brand_id):
    staff = token("staff", "s1", brand_id)
    mutation = """mutation($input: RegisterMemberInput!) { registerMember(input: $input) {
        __typename ... on RegisterMemberSuccess { member { id phoneMasked tier { code } points { balance } } }
        ... on BusinessError { code message } ... on AlreadyRegistered { field } ... on InvalidInput { field } } }"""
    number = new_phone()
    status, body = call_graphql(mutation, {"input": {"phone": number, "channel": "miniprogram"}}, staff)
    created = body["data"]["registerMember"]
    assert created["__typename"] == "RegisterMemberSuccess"
    assert created["member"]["points"]["balance"] == 0 and created["member"]["tier"]["code"] == "PU"

    _, body = call_graphql(mutation, {"input": {"phone": "+86 " + number, "channel": "h5"}}, staff)
    assert body["data"]["registerMember"] == {"__typename": "AlreadyRegistered", "code": "ALREADY_REGISTERED",
                                              "message": body["data"]["registerMember"]["message"], "field": "phone"}

    _, body = call_graphql(mutation, {"input": {"phone": "12345", "channel": "h5"}}, staff)
    assert body["data"]["registerMember"]["__typename"] == "InvalidInput"
    assert body["data"]["registerMember"]["field"] == "phone"


REDEEM = """mutation($points: Int!, $key: String!) { redeemPoints(input: {points: $points, idempotencyKey: $key}) {
  __typename ... on PointsChanged { entryId points balance replayed }
  ... on InsufficientPoints { code requested available } ... on InvalidInput { field } } }"""


def test_a_member_redeems_points_and_a_retry_with_the_same_key_changes_nothing(brand_id, member):
    member_token = token("member", member[0], brand_id)
    _, first = call_graphql(REDEEM, {"points": 400, "key": "checkout-1"}, member_token)
    _, again = call_graphql(REDEEM, {"points": 400, "key": "checkout-1"}, member_token)
    first, again = first["data"]["redeemPoints"], again["data"]["redeemPoints"]
    assert first["__typename"] == "PointsChanged" and first["balance"] == 600 and not first["replayed"]
    assert again["entryId"] == first["entryId"] and again["balance"] == 600 and again["replayed"]

    _, short = call_graphql(REDEEM, {"points": 5000, "key": "checkout-2"}, member_token)
    assert short["data"]["redeemPoints"] == {"__typename": "InsufficientPoints", "code": "INSUFFICIENT_POINTS",
                                             "requested": 5000, "available": 600}
    _, bad = call_graphql(REDEEM, {"points": -5, "key": "checkout-3"}, member_token)
    assert bad["data"]["redeemPoints"] == {"__typename": "InvalidInput", "field": "points"}


def test_staff_adjust_with_a_reason_and_reverse_an_entry(brand_id, member):
    staff = token("staff", "s1", brand_id)
    adjust = """mutation($input: AdjustPointsInput!) { adjustPoints(input: $input) {
        __typename ... on PointsChanged { entryId balance } ... on InvalidInput { field } } }"""
    _, no_reason = call_graphql(adjust, {"input": {"memberId": member[0], "points": 50, "reason": "",
                                                   "idempotencyKey": "adj-0"}}, staff)
    assert no_reason["data"]["adjustPoints"] == {"__typename": "InvalidInput", "field": "reason"}
    _, added = call_graphql(adjust, {"input": {"memberId": member[0], "points": 50, "reason": "store credit",
                                               "idempotencyKey": "adj-1"}}, staff)
    assert added["data"]["adjustPoints"]["balance"] == 1050

    reverse = """mutation($input: ReversePointsEntryInput!) { reversePointsEntry(input: $input) {
        __typename ... on PointsChanged { balance } ... on EntryNotReversible { reason } } }"""
    variables = {"input": {"memberId": member[0], "entryId": added["data"]["adjustPoints"]["entryId"],
                           "idempotencyKey": "rev-1", "reason": "entered twice"}}
    _, reversed_ = call_graphql(reverse, variables, staff)
    assert reversed_["data"]["reversePointsEntry"] == {"__typename": "PointsChanged", "balance": 1000}
    variables["input"]["idempotencyKey"] = "rev-2"
    _, twice = call_graphql(reverse, variables, staff)
    assert twice["data"]["reversePointsEntry"]["__typename"] == "EntryNotReversible"


def test_points_history_pages_with_cursors(brand_id, member, store):
    member_token = token("member", member[0], brand_id)
    query = """query($after: String) { me { points { history(first: 1, after: $after) {
        edges { cursor node { kind points reason } } pageInfo { hasNextPage endCursor } } } } }"""
    seen, after = [], None
    while True:
        _, body = call_graphql(query, {"after": after}, member_token)
        page = body["data"]["me"]["points"]["history"]
        seen += [edge["node"]["points"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == [300, 700]
    _, bad = call_graphql(query.replace("first: 1", "first: 1000"), {}, member_token)
    assert error_codes(bad) == ["BAD_USER_INPUT"]
    _, garbage = call_graphql(query, {"after": "%%%not-a-cursor"}, member_token)
    assert error_codes(garbage) == ["BAD_USER_INPUT"]


def test_an_unexpected_failure_is_masked_and_never_a_500(brand_id, member, monkeypatch):
    from api import app

    def broken(*args, **kwargs):
        raise RuntimeError("table siyu-prod unreachable at 10.0.0.7")

    monkeypatch.setattr(app.store(), "load_member", broken)
    status, body = call_graphql("{ me { id } }", token=token("member", member[0], brand_id))
    assert status == 200
    assert body["errors"][0]["message"] == "服务内部错误，已记录"  # Chinese unless the caller asks otherwise
    _, english = call_graphql("{ me { id } }", token=token("member", member[0], brand_id), language="en")
    assert english["errors"][0]["message"] == "Internal error"
    assert "10.0.0.7" not in str(body) and "siyu-prod" not in str(body)


def test_a_malformed_request_is_a_client_error_not_a_server_error():
    from api.handler import handler

    event = http_api_event("{ me { id } }")
    event["body"] = "{not json"
    response = handler(event, LambdaContext())
    assert 400 <= response["statusCode"] < 500
    status, body = call_graphql("{ me { nosuchfield } }")
    assert status in (200, 400) and body["errors"]
