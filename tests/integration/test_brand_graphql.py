"""Staff GraphQL for the engine: plugins, configureBrand, simulateEvent, eventProblems."""

from datetime import datetime, timedelta, timezone

from events.handler import handler
from infra import runtime
from tests.helpers import business_event, call_graphql, error_codes, order_paid, register, token

NOW = datetime.now(timezone.utc)

CONFIGURE = """mutation($input: ConfigureBrandInput!) { configureBrand(input: $input) {
  __typename ... on BrandConfigured { brand { enabledPlugins version } } ... on InvalidInput { field message } } }"""


def test_staff_see_the_installed_plugins_with_their_schemas_and_what_the_brand_enabled(rules_brand):
    _, body = call_graphql("{ plugins { name version enabled paramsSchema params } }",
                           token=token("staff", "s1", rules_brand))
    plugins = {p["name"]: p for p in body["data"]["plugins"]}
    assert plugins["points"]["enabled"] and plugins["points"]["params"]["pointsPerYuan"] == 1
    assert plugins["points"]["paramsSchema"]["properties"]["checkInPoints"]["default"] == 5


def test_configure_brand_refuses_bad_parameters_naming_the_field_and_saves_good_ones(rules_brand):
    staff = token("staff", "s1", rules_brand)
    bad = {"input": {"plugins": [{"name": "points", "params": {"pointsPerYuan": -3}}]}}
    _, refused = call_graphql(CONFIGURE, bad, staff)
    assert refused["data"]["configureBrand"]["__typename"] == "InvalidInput"
    assert refused["data"]["configureBrand"]["field"] == "plugins.points.params.pointsPerYuan"

    _, unknown = call_graphql(CONFIGURE, {"input": {"plugins": [{"name": "lottery"}]}}, staff)
    assert unknown["data"]["configureBrand"]["field"] == "plugins[0].name"

    _, ladder = call_graphql(CONFIGURE, {"input": {"tiers": [{"code": "A", "name": "A", "threshold": 0},
                                                             {"code": "B", "name": "B", "threshold": 0}]}}, staff)
    assert ladder["data"]["configureBrand"]["field"] == "tiers[1].threshold"

    good = {"input": {"plugins": [{"name": "points", "params": {"pointsPerYuan": 2}},
                                  {"name": "points_expiry", "enabled": False}]}}
    _, saved = call_graphql(CONFIGURE, good, staff)
    assert saved["data"]["configureBrand"]["brand"]["enabledPlugins"] == ["points", "tiers"]
    assert runtime.store().get_brand(rules_brand).plugins["points"]["pointsPerYuan"] == 2


def test_simulate_event_shows_effects_with_explanations_and_writes_nothing(rules_brand):
    member = register(runtime.store(), rules_brand, NOW)
    event = business_event("order.paid", order_paid(rules_brand, member, 60000), time=NOW)
    query = """mutation($event: JSON!) { simulateEvent(event: $event) { status effects followUps } }"""
    _, body = call_graphql(query, {"event": event}, token("staff", "s1", rules_brand))
    simulation = body["data"]["simulateEvent"]
    assert simulation["status"] == "simulated"
    awarded = [e for e in simulation["effects"] if e["effect"] == "AwardPoints"]
    assert awarded[0]["points"] == 600 and awarded[0]["plugin"] == "points" and awarded[0]["rule"]
    assert [e["code"] for e in simulation["effects"] if e["effect"] == "SetTier"] == ["YIN"]
    assert runtime.store().load_member(rules_brand, member).points.balance == 0
    assert handler(event)["status"] == "applied"  # the dry run did not mark it processed


def test_staff_cannot_simulate_another_brands_event(rules_brand):
    event = business_event("order.paid", order_paid("someone-else", "m_1", 100))
    _, body = call_graphql("mutation($e: JSON!) { simulateEvent(event: $e) { status } }", {"e": event},
                           token("staff", "s1", rules_brand))
    assert error_codes(body) == ["FORBIDDEN"]


def test_malformed_events_of_every_kind_are_listed_for_staff_and_none_is_lost(rules_brand):
    member = register(runtime.store(), rules_brand, NOW)
    good = order_paid(rules_brand, member, 100)
    malformed = [
        {k: v for k, v in good.items() if k != "orderId"},
        {**good, "amountFen": "100"},
        {**good, "amountFen": -100},
        {**good, "memberId": "m_does_not_exist"},
        {**good, "items": [{"sku": "x"}]},
        {**good, "channel": "carrier-pigeon"},
        {**good, "note": "x" * 300_000},
    ]
    sent = [handler(business_event("order.paid", detail, time=NOW - timedelta(minutes=i)))
            for i, detail in enumerate(malformed)]
    assert {s["status"] for s in sent} == {"rejected"}
    query = """query($after: String) { eventProblems(first: 3, after: $after) {
        edges { node { eventId status reason field raw } } pageInfo { hasNextPage endCursor } } }"""
    listed, after = {}, None
    while True:
        _, body = call_graphql(query, {"after": after}, token("staff", "s1", rules_brand))
        page = body["data"]["eventProblems"]
        listed.update({e["node"]["eventId"]: e["node"] for e in page["edges"]})
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert {s["eventId"] for s in sent} == set(listed)
    assert all(node["reason"] for node in listed.values())
    assert any(len(node["raw"]) > 256 * 1024 for node in listed.values())  # kept whole, not truncated away


def test_a_member_can_see_why_their_tier_changed_long_after_the_event(rules_brand):
    member = register(runtime.store(), rules_brand, NOW)
    handler(business_event("order.paid", order_paid(rules_brand, member, 60000, order_id="o-why"), time=NOW))
    query = "{ me { activity(first: 5) { edges { node { detailType effects } } } } }"
    _, body = call_graphql(query, token=token("member", member, rules_brand))
    (activity,) = body["data"]["me"]["activity"]["edges"]
    assert activity["node"]["detailType"] == "order.paid"
    upgrade = next(e for e in activity["node"]["effects"] if e["effect"] == "SetTier")
    assert (upgrade["plugin"], upgrade["rule"], upgrade["code"]) == ("tiers", "upgrade-on-threshold", "YIN")
    assert upgrade["inputs"] == {"growth": 600, "threshold": 500, "from": "PU"}


def test_a_member_checks_in_once_a_day_through_graphql(rules_brand):
    member = register(runtime.store(), rules_brand, NOW)
    member_token = token("member", member, rules_brand)
    query = "mutation { checkIn { ... on CheckedIn { pointsEarned balance } } }"
    _, first = call_graphql(query, token=member_token)
    _, second = call_graphql(query, token=member_token)
    assert first["data"]["checkIn"] == {"pointsEarned": 5, "balance": 5}
    assert second["data"]["checkIn"] == {"pointsEarned": 0, "balance": 5}


def test_simulating_another_brands_event_id_does_not_tell_whether_it_happened(rules_brand, store):
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig

    member = register(runtime.store(), rules_brand, NOW)
    event = business_event("order.paid", order_paid(rules_brand, member, 1000), time=NOW)
    assert runtime.engine().handle(event).status == "applied"
    other = rules_brand + "x"
    store.put_brand(BrandConfig(other, "别家", BAIGUOYUAN_LADDER))
    guess = {**event, "detail": {**event["detail"], "brandId": other}}
    query = "mutation($event: JSON!) { simulateEvent(event: $event) { status } }"
    _, body = call_graphql(query, {"event": guess}, token("staff", "s2", other))
    assert body["data"]["simulateEvent"]["status"] != "duplicate"
    _, own = call_graphql(query, {"event": event}, token("staff", "s1", rules_brand))
    assert own["data"]["simulateEvent"]["status"] == "duplicate"
