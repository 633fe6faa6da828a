"""A Chinese mini-program shows members the API's messages as they come: Chinese unless the request asks for English.
The `code` is the same in both."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from tests.helpers import LambdaContext, call_graphql, earn, http_api_event, register, token

REDEEM = """mutation { redeemPoints(input: {points: 500, idempotencyKey: "lang-1"}) { __typename
  ... on BusinessError { code message } } }"""
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def test_a_member_short_of_points_reads_why_in_chinese_by_default_and_in_english_on_request(store, brand_id):
    member = register(store, brand_id, NOW)
    earn(store, brand_id, member, 120, NOW)
    mine = token("member", member, brand_id)
    _, chinese = call_graphql(REDEEM, token=mine)
    _, english = call_graphql(REDEEM.replace("lang-1", "lang-2"), token=mine, language="en-US,en;q=0.8")
    assert chinese["data"]["redeemPoints"] == {"__typename": "InsufficientPoints", "code": "INSUFFICIENT_POINTS",
                                               "message": "积分不足：需要 500 积分，可用 120 积分"}
    assert english["data"]["redeemPoints"]["code"] == "INSUFFICIENT_POINTS"
    assert english["data"]["redeemPoints"]["message"] == "500 points requested, 120 available"


def test_a_refused_input_names_its_field_and_says_why_in_the_requests_language(store, brand_id):
    mine = token("member", register(store, brand_id, NOW), brand_id)
    birthday = """mutation { updateProfile(input: {birthday: "March 1st"}) { __typename
      ... on InvalidInput { field code message } } }"""
    _, chinese = call_graphql(birthday, token=mine, language="zh-CN,zh;q=0.9,en;q=0.5")
    _, english = call_graphql(birthday, token=mine, language="en")
    assert chinese["data"]["updateProfile"]["message"].startswith("生日为月和日")
    assert english["data"]["updateProfile"]["message"].startswith("a birthday is a month and day")
    assert chinese["data"]["updateProfile"]["field"] == english["data"]["updateProfile"]["field"] == "birthday"


def test_graphql_errors_are_chinese_too_and_keep_their_codes():
    _, chinese = call_graphql("{ me { id } }")
    _, english = call_graphql("{ me { id } }", language="en")
    assert chinese["errors"][0]["extensions"]["code"] == english["errors"][0]["extensions"]["code"] == \
        "UNAUTHENTICATED"
    assert chinese["errors"][0]["message"] == "请先登录：请发送有效的 Bearer 令牌"
    assert english["errors"][0]["message"] == "authentication required: send a valid bearer token"
    _, unknown = call_graphql("{ nothingHere }")
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert unknown["errors"][0]["message"].startswith("请求有误：")
    _, bad_token = call_graphql("{ me { id } }", token="not-a-token")
    assert bad_token["errors"][0]["message"] == "令牌无效或已过期：请重新登录"


def test_a_body_that_is_not_json_is_refused_in_the_requests_language():
    from api.handler import handler

    answers = {}
    for language in ("zh-CN", "en"):
        event = http_api_event("{ __typename }", language=language)
        event["body"] = "{nope"
        response = handler(event, LambdaContext())
        answers[language] = json.loads(response["body"])["errors"][0]
    assert answers["zh-CN"]["message"] == "请求体不是有效的 JSON"
    assert answers["en"]["message"] == "Unable to parse request body as JSON"
    assert answers["zh-CN"]["extensions"] == answers["en"]["extensions"] == {"code": "BAD_USER_INPUT"}


def test_a_checked_in_member_sees_what_the_rules_decided_typed_and_in_chinese(store, rules_brand):
    mine = token("member", register(store, rules_brand, NOW), rules_brand)
    _, body = call_graphql("""mutation { checkIn { __typename ... on CheckedIn { pointsEarned
      decisions { kind plugin rule points summary inputs { name value } } } } }""", token=mine)
    checked = body["data"]["checkIn"]
    awarded = [d for d in checked["decisions"] if d["kind"] == "AWARD_POINTS"]
    assert awarded and awarded[0]["points"] == checked["pointsEarned"] > 0
    # The rule is named as people read it, in the member's language (the points family's `rule.check-in-points`).
    assert awarded[0]["rule"] == "check-in-points"
    assert awarded[0]["summary"] == f"获得 {checked['pointsEarned']} 积分（规则 签到积分）"
    assert all("_" not in i["name"] for d in checked["decisions"] for i in d["inputs"])  # camelCase or single words
    _, history = call_graphql("""{ me { points { history(first: 5) { edges { node { entryType points summary
      why { plugin rule summary } } } } } } }""", token=mine)
    entry = history["data"]["me"]["points"]["history"]["edges"][0]["node"]
    assert entry["entryType"] == "EARN" and entry["why"]["rule"] == awarded[0]["rule"]
    assert entry["summary"] == entry["why"]["summary"] == f"规则「签到积分」（points）：{checked['pointsEarned']} 积分"
    _, activity = call_graphql("""{ me { activity(first: 5) { edges { node { detailType
      decisions { kind rule summary } } } } } }""", token=mine, language="en")
    nodes = [e["node"] for e in activity["data"]["me"]["activity"]["edges"]]
    checked_in = next(n for n in nodes if any(d["kind"] == "AWARD_POINTS" for d in n["decisions"]))
    assert f"earned {checked['pointsEarned']} points (rule check-in points)" in [d["summary"] for d in checked_in["decisions"]]


def test_a_rule_that_did_not_act_says_why_in_the_members_language(store, plugins):
    """A coupon named on an order that the member does not hold is not used: the note says so in Chinese (and in
    English on request), from the coupons family's own sentence, not the plugin's English log text."""
    import uuid

    from infra.runtime import engine
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from tests.helpers import business_event, order_paid

    rules_brand = f"n{uuid.uuid4().hex[:10]}"
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "coupons")}
    store.put_brand(BrandConfig(rules_brand, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    member = register(store, rules_brand, NOW)
    engine().handle(business_event("order.paid", order_paid(rules_brand, member, 8800, couponIds=["c-nobody"]),
                                   time=NOW))
    query = "{ me { activity(first: 5) { edges { node { decisions { kind rule summary } } } } } }"
    summaries = {}
    for language in ("zh-CN", "en"):
        _, body = call_graphql(query, token=token("member", member, rules_brand), language=language)
        notes = [d for e in body["data"]["me"]["activity"]["edges"] for d in e["node"]["decisions"]
                 if d["kind"] == "NOTE"]
        summaries[language] = [n["summary"] for n in notes if n["rule"] == "coupon-not-usable"]
    assert summaries["zh-CN"] == ["规则 优惠券不可用 的说明：优惠券 c-nobody 未使用"]
    assert summaries["en"] == ["note from rule coupon not usable: coupon c-nobody was not used"]
