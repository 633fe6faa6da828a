"""Coupons that can no longer be used leave the member's partition after a retention period (TTL); the member's
activity keeps their history and the per-member count keeps its limit."""

from __future__ import annotations

from datetime import timedelta

from infra import keys
from infra.settings import settings
from plugins.coupons.storage import COUPON_RETENTION_ENV, DEFAULT_COUPON_RETENTION_DAYS
from tests.helpers import order_paid
from tests.integration.test_coupons import T, YUAN, brand, held, joined, send  # noqa: F401 - fixtures

import boto3


def _ttl(store, brand_id, member, coupon_id, endpoint):
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    item = client.get_item(TableName=settings().table_name, Key={
        "pk": {"S": keys.member_pk(brand_id, member)}, "sk": {"S": keys.COUPON_PREFIX + coupon_id}}).get("Item")
    return None if item is None else int(item["ttl"]["N"])


def test_a_used_coupon_leaves_a_year_after_its_use_and_an_unused_one_a_year_after_it_ends(
        store, brand, send, dynamodb_endpoint):
    member = joined(store, brand, send)
    entry = held(store, brand, member)["entry-50-10"]
    year = timedelta(days=DEFAULT_COUPON_RETENTION_DAYS)
    assert DEFAULT_COUPON_RETENTION_DAYS == 365
    # Available: it can be used until it ends, so it stays a year beyond that.
    assert _ttl(store, brand, member, entry.coupon_id, dynamodb_endpoint) == int((entry.valid_until + year).timestamp())
    used_at = T + timedelta(hours=1)
    send("order.paid", order_paid(brand, member, 150 * YUAN, couponIds=[entry.coupon_id]), used_at)
    assert held(store, brand, member, used_at)["entry-50-10"].status == "used"
    assert _ttl(store, brand, member, entry.coupon_id, dynamodb_endpoint) == int((used_at + year).timestamp())
    # Past its retention the coupon is gone from what the member's reads see, at once (DynamoDB deletes it later).
    assert "entry-50-10" not in held(store, brand, member, used_at + year + timedelta(seconds=1))
    assert "entry-50-10" in held(store, brand, member, used_at + year - timedelta(seconds=1))


def test_the_retention_is_configurable(store, brand, send, dynamodb_endpoint, monkeypatch):
    monkeypatch.setenv(COUPON_RETENTION_ENV, "30")
    member = joined(store, brand, send)
    entry = held(store, brand, member)["entry-50-10"]
    assert _ttl(store, brand, member, entry.coupon_id, dynamodb_endpoint) == int(
        (entry.valid_until + timedelta(days=30)).timestamp())
