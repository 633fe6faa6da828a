"""Abuse limits (rules/limits.py): attempts per member, action and window, counted atomically in DynamoDB."""

import json
import threading
from datetime import datetime, timedelta, timezone

import pytest

from infra import keys, runtime
from infra.models import AttemptItem
from rules import limits
from plugins.coupons.model import CLAIM_COUPON
from rules.errors import RateLimited
from rules.limits import AttemptLimit, count_attempt, window
from tests.helpers import call_graphql, earn, register, token

NOW = datetime.now(timezone.utc)
CHECK_IN = "mutation { checkIn { __typename ... on CheckedIn { pointsEarned balance } " \
           "... on RateLimited { code action retryAfterSeconds } } }"
REDEEM = """mutation($key: String!) { redeemPoints(input: {points: 10, idempotencyKey: $key}) { __typename
  ... on PointsChanged { balance } ... on RateLimited { action retryAfterSeconds } } }"""
PAY = """mutation($key: String!) { payWithPoints(input: {orderId: $key, orderAmountFen: 100000, points: 100,
  idempotencyKey: $key}) { __typename ... on RateLimited { action } } }"""


def limited(**actions: tuple[int, int]) -> str:
    # Windows of a day: the few requests of one test fall in two windows only when run across midnight UTC.
    return json.dumps({a: {"attempts": n, "windowSeconds": s} for a, (n, s) in actions.items()})


def test_a_member_checking_in_past_the_limit_gets_rate_limited_and_nothing_runs(rules_brand, configure):
    configure(SIYU_ATTEMPT_LIMITS=limited(checkIn=(2, 86400)))
    member = register(runtime.store(), rules_brand, NOW)
    member_token = token("member", member, rules_brand)
    answers = [call_graphql(CHECK_IN, token=member_token)[1]["data"]["checkIn"] for _ in range(3)]
    assert [a["__typename"] for a in answers] == ["CheckedIn", "CheckedIn", "RateLimited"]
    refused = answers[2]
    assert refused["code"] == "RATE_LIMITED" and refused["action"] == "checkIn"
    assert 0 < refused["retryAfterSeconds"] <= 86400
    assert runtime.store().load_member(rules_brand, member).points.balance == 5


def test_redemptions_past_the_limit_are_refused_and_spend_nothing(store, brand_id, configure):
    configure(SIYU_ATTEMPT_LIMITS=limited(redeemPoints=(3, 86400)))
    member = register(store, brand_id, NOW)
    earn(store, brand_id, member, 100, NOW - timedelta(days=1))
    member_token = token("member", member, brand_id)
    answers = [call_graphql(REDEEM, {"key": f"k{i}"}, member_token)[1]["data"]["redeemPoints"] for i in range(5)]
    assert [a["__typename"] for a in answers] == ["PointsChanged"] * 3 + ["RateLimited"] * 2
    assert store.load_member(brand_id, member).points.balance == 70
    # Another member of the brand has a counter of their own.
    neighbour = register(store, brand_id, NOW)
    earn(store, brand_id, neighbour, 100, NOW - timedelta(days=1))
    _, body = call_graphql(REDEEM, {"key": "n1"}, token("member", neighbour, brand_id))
    assert body["data"]["redeemPoints"]["__typename"] == "PointsChanged"


def test_failed_attempts_count_too(store, brand_id, configure):
    configure(SIYU_ATTEMPT_LIMITS=limited(payWithPoints=(2, 86400)))
    member_token = token("member", register(store, brand_id, NOW), brand_id)  # no points: every payment fails
    kinds = [call_graphql(PAY, {"key": f"o{i}"}, member_token)[1]["data"]["payWithPoints"]["__typename"]
             for i in range(3)]
    assert kinds == ["InsufficientPoints", "InsufficientPoints", "RateLimited"], kinds


def test_concurrent_attempts_never_exceed_the_limit(store, brand_id, now):
    limit = {"claimCoupon": AttemptLimit(5, timedelta(hours=1))}
    start = threading.Barrier(12)
    outcomes: list[str] = []

    def attempt():
        start.wait()
        try:
            count_attempt(store, brand_id, "m_racer", "claimCoupon", now=now, limits=limit)
            outcomes.append("counted")
        except RateLimited:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["counted"] * 5 + ["refused"] * 7


def test_the_next_window_starts_afresh_and_the_counter_expires_by_itself(store, brand_id, now):
    limit = {"claimCoupon": AttemptLimit(1, timedelta(minutes=10))}
    count_attempt(store, brand_id, "m1", "claimCoupon", now=now, limits=limit)
    with pytest.raises(RateLimited) as refused:
        count_attempt(store, brand_id, "m1", "claimCoupon", now=now + timedelta(minutes=4), limits=limit)
    start, end = window(now, timedelta(minutes=10))
    assert refused.value.retry_after_seconds == int((end - now - timedelta(minutes=4)).total_seconds())
    count_attempt(store, brand_id, "m1", "claimCoupon", now=end, limits=limit)  # a new window
    counters = list(AttemptItem.query(keys.attempts_pk(brand_id, "m1")))
    assert [c.attempts for c in counters] == [1, 1]
    assert counters[0].ttl == end + timedelta(minutes=10)  # outlives its window by one window, then DynamoDB drops it


def test_the_coupon_claim_hook_uses_the_default_limit():
    assert limits.default_limits()[CLAIM_COUPON] == AttemptLimit(20, timedelta(hours=1))


def test_the_claim_coupon_hook_refuses_the_21st_claim_in_an_hour(store, brand_id, now):
    for _ in range(20):
        count_attempt(store, brand_id, "m_farmer", CLAIM_COUPON, now=now)
    with pytest.raises(RateLimited) as refused:
        count_attempt(store, brand_id, "m_farmer", CLAIM_COUPON, now=now)
    assert refused.value.action == "claimCoupon"


def test_an_action_without_a_limit_is_a_wiring_mistake(store, brand_id, now):
    with pytest.raises(ValueError):
        count_attempt(store, brand_id, "m1", "noSuchAction", now=now)


def test_windows_are_aligned_so_every_container_counts_the_same_one():
    at = datetime(2026, 3, 1, 2, 37, 12, tzinfo=timezone.utc)
    assert window(at, timedelta(hours=1)) == (datetime(2026, 3, 1, 2, tzinfo=timezone.utc),
                                              datetime(2026, 3, 1, 3, tzinfo=timezone.utc))
    assert window(at, timedelta(minutes=10))[0] == datetime(2026, 3, 1, 2, 30, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw", ['{"checkIn": {"attempts": 0, "windowSeconds": 60}}', '{"checkIn": 3}', "[1"])
def test_bad_limit_settings_are_refused_at_start(configure, raw):
    with pytest.raises(RuntimeError, match="SIYU_ATTEMPT_LIMITS"):
        configure(SIYU_ATTEMPT_LIMITS=raw)
