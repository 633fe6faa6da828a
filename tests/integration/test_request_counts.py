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


def test_a_redemption_costs_one_read_and_one_transaction(store, brand_id):
    member = register(store, brand_id, NOW)
    for days in (30, 60):
        earn(store, brand_id, member, 100, NOW - timedelta(days=1), days=days)
    member_token = token("member", member, brand_id)
    mutation = 'mutation { redeemPoints(input: {points: 150, idempotencyKey: "o-1"}) { __typename } }'
    with count_requests() as requests:
        _, body = call_graphql(mutation, token=member_token)
    assert body["data"]["redeemPoints"]["__typename"] == "PointsChanged"
    assert dict(requests.by_operation) == {"Query": 1, "TransactWriteItems": 1}


def test_recording_a_consent_costs_one_read_and_one_transaction(store, brand_id):
    member_token = token("member", register(store, brand_id, NOW), brand_id)
    mutation = ('mutation { setConsent(input: {purpose: MARKETING_MESSAGES, granted: true, policyVersion: "v1"}) '
                '{ ... on ConsentRecorded { consent { granted history { granted } } } } }')
    call_graphql("{ me { id } }", token=member_token)  # warms the per-container brand cache
    with count_requests() as requests:
        _, body = call_graphql(mutation, token=member_token)
    assert body["data"]["setConsent"]["consent"] == {"granted": True, "history": [{"granted": True}]}
    assert dict(requests.by_operation) == {"Query": 1, "TransactWriteItems": 1}
