"""DynamoDB requests per operation, counted with botocore's event hooks on the real client."""

from datetime import datetime, timedelta, timezone

from infra.db import count_requests
from tests.helpers import call_graphql, earn, register, token

NOW = datetime.now(timezone.utc)


def test_the_member_page_with_balance_lots_and_tier_is_one_query(store, brand_id):
    member = register(store, brand_id, NOW)
    for days in (30, 60, 90):
        earn(store, brand_id, member, 100, NOW - timedelta(days=1), days=days)
    member_token = token("member", member, brand_id)
    query = "{ me { points { balance lots { remaining expiresAt } expiringWithin(days: 45) } tier { code name } nextTier { growthNeeded } } }"
    call_graphql(query, token=member_token)  # warms the per-container brand cache
    with count_requests() as requests:
        _, body = call_graphql(query, token=member_token)
    assert body["data"]["me"]["points"]["balance"] == 300
    assert dict(requests.by_operation) == {"Query": 1}


def test_a_redemption_costs_its_attempt_count_one_read_and_one_transaction(store, brand_id):
    member = register(store, brand_id, NOW)
    for days in (30, 60):
        earn(store, brand_id, member, 100, NOW - timedelta(days=1), days=days)
    member_token = token("member", member, brand_id)
    mutation = 'mutation { redeemPoints(input: {points: 150, idempotencyKey: "o-1"}) { __typename } }'
    with count_requests() as requests:
        _, body = call_graphql(mutation, token=member_token)
    assert body["data"]["redeemPoints"]["__typename"] == "PointsChanged"
    # The abuse-limit counter is its own small transaction (the counter, conditioned on the member being there), sent
    # first: a refused or failed attempt counts too. The member's state (one Query, which never reaches their
    # orders' markers) and the request's record by its key (GetItem).
    assert dict(requests.by_operation) == {"Query": 1, "GetItem": 1, "TransactWriteItems": 2}


def test_recording_a_consent_costs_its_attempt_count_one_read_and_one_transaction(store, brand_id):
    member_token = token("member", register(store, brand_id, NOW), brand_id)
    mutation = ('mutation { setConsent(input: {purpose: MARKETING_MESSAGES, granted: true, policyVersion: "v1"}) '
                '{ ... on ConsentRecorded { consent { granted history { granted } } } } }')
    call_graphql("{ me { id } }", token=member_token)  # warms the per-container brand cache
    with count_requests() as requests:
        _, body = call_graphql(mutation, token=member_token)
    assert body["data"]["setConsent"]["consent"] == {"granted": True, "history": [{"granted": True}]}
    # Each consent call grows the partition every request reads: the attempt limit's counter comes first.
    assert dict(requests.by_operation) == {"Query": 1, "TransactWriteItems": 2}


def test_coupon_offers_cost_two_queries_and_a_claim_one_query_and_one_transaction(store, plugins):
    import uuid

    from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig

    brand = "rc" + uuid.uuid4().hex[:10]
    params = plugins.validate_params("coupons", {"templates": BAIGUOYUAN_TEMPLATES})
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins={"coupons": params}))
    member_token = token("member", register(store, brand, NOW), brand)
    call_graphql("{ couponOffers { eligible } }", token=member_token)  # warms the per-container brand cache
    with count_requests() as offers:
        _, body = call_graphql("{ couponOffers { template { id } eligible reasons { code } stockLeft } }",
                               token=member_token)
    assert len(body["data"]["couponOffers"]) == len(BAIGUOYUAN_TEMPLATES)
    # The member's partition, and the brand's stock and pause counters.
    assert dict(offers.by_operation) == {"Query": 2}
    with count_requests() as claim:
        _, claimed = call_graphql('mutation { claimCoupon(templateId: "bgy-100-20") { __typename } }',
                                  token=member_token)
    assert claimed["data"]["claimCoupon"]["__typename"] == "CouponClaimed"
    # The abuse-limit counter (conditioned on the member), the member's partition, and the claim's one transaction.
    assert dict(claim.by_operation) == {"Query": 1, "TransactWriteItems": 2}
