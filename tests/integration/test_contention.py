"""Contention is an answer: DynamoDB refusing for now (TransactionConflict, throttling, a timeout) is retried with
jittered backoff and, past the budget, answered as the typed `Busy`, never INTERNAL; an attempt refused as `Busy`
does not count against the member's attempt limit. The faults come from the embedded DynamoDB's fault mode
(`infra.embedded_dynamodb.Faults`), through botocore and pynamodb as real ones would."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError
from pynamodb.exceptions import TransactWriteError, UpdateError

from infra import db
from infra.dynamo_errors import is_transient, response_code
from infra.embedded_dynamodb import CONFLICT, THROTTLE, TIMEOUT_AFTER_COMMIT, Faults
from infra.models import AttemptItem
from infra import keys
from rules import engine as engine_module
from rules import limits
from plugins.coupons.model import CLAIM_COUPON
from rules.errors import Busy
from tests.interleave import NOW, fresh_world

T = NOW - timedelta(days=2)


def attempts_counted(world, role, action):
    start, _ = limits.window(datetime.now(timezone.utc), limits.default_limits()[action].window)
    try:
        item = AttemptItem.get(keys.attempts_pk(world.brand, world.members[role]), keys.attempt_sk(action, start))
    except AttemptItem.DoesNotExist:
        return 0
    return int(item.attempts)


@pytest.fixture
def quick_budget(monkeypatch):
    """A small retry budget, so "past its budget" is reached in a few requests."""
    monkeypatch.setattr(engine_module, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(engine_module, "MAX_BACKOFF_SECONDS", 0.01)


# ---- reading the error right ---------------------------------------------------------------------------------


def test_a_botocore_error_without_a_response_has_no_code_and_is_passing_trouble():
    timeout = TransactWriteError("Failed to write transaction items", ReadTimeoutError(endpoint_url="http://x"))
    assert response_code(timeout) is None  # pynamodb's own cause_response_code raises AttributeError here
    assert is_transient(timeout)
    assert is_transient(UpdateError("Failed to update item", ConnectTimeoutError(endpoint_url="http://x")))
    assert is_transient(UpdateError("Failed to update item", EndpointConnectionError(endpoint_url="http://x")))
    assert not is_transient(UpdateError("Failed to update item", ValueError("a bug, not the weather")))


# ---- claimCoupon: 50 members tapping one limited coupon on real DynamoDB meet TransactionConflict -------------


def test_a_claim_that_meets_transaction_conflicts_is_retried_and_gets_its_coupon_counting_one_attempt(
        dynamodb_endpoint):
    with fresh_world(("a",)) as world:
        with Faults(db.client(), CONFLICT, nth=1, limit=2) as faults:
            assert world.claim("a", "limited-1") == "CouponClaimed"
        assert faults.injected == 2
        assert attempts_counted(world, "a", CLAIM_COUPON) == 1
        assert world.snapshot()["issued"] == {"limited-1": 1}


def test_a_claim_that_keeps_meeting_conflicts_answers_busy_and_counts_no_attempt(dynamodb_endpoint):
    with fresh_world(("a",)) as world:
        with Faults(db.client(), CONFLICT, nth=1):
            assert world.claim("a", "limited-1") == "Busy"
        assert attempts_counted(world, "a", CLAIM_COUPON) == 0
        assert world.snapshot()["issued"] == {}
        assert world.claim("a", "limited-1") == "CouponClaimed"  # and once DynamoDB answers again, it works


# ---- throttling and timeouts on member mutations ----------------------------------------------------------------


@pytest.mark.parametrize("fault", [THROTTLE, CONFLICT])
def test_a_redemption_that_is_throttled_for_a_while_goes_through_once(fault, dynamodb_endpoint):
    with fresh_world(("m",)) as world:
        world.order("m", "o1", 300, T)
        with Faults(db.client(), fault, nth=1, limit=3):
            assert world.redeem("m", 100, "spend-1") == "PointsChanged"
        assert world.snapshot()["members"]["m"]["balance"] == 200


def test_a_redemption_whose_answer_is_lost_after_the_commit_is_applied_once(dynamodb_endpoint):
    with fresh_world(("m",)) as world:
        world.order("m", "o1", 300, T)
        with Faults(db.client(), TIMEOUT_AFTER_COMMIT, nth=1, limit=1) as faults:
            assert world.redeem("m", 100, "spend-1") == "PointsChanged"
        assert faults.injected == 1
        assert world.snapshot()["members"]["m"]["balance"] == 200


@pytest.mark.parametrize("mutation", ["redeem", "checkIn", "claim"])
def test_a_member_mutation_during_an_outage_answers_busy_not_internal(mutation, quick_budget, dynamodb_endpoint):
    with fresh_world(("m",)) as world:
        world.order("m", "o1", 300, T)
        with Faults(db.client(), THROTTLE, nth=1, operations=("TransactWriteItems",)):
            answer = {"redeem": lambda: world.redeem("m", 100, "spend-1"),
                      "checkIn": lambda: world.check_in("m"),
                      "claim": lambda: world.claim("m", "limited-1")}[mutation]()
        assert answer == "Busy"
        assert world.snapshot()["members"]["m"]["balance"] == 300
        action = {"redeem": limits.REDEEM_POINTS, "checkIn": limits.CHECK_IN, "claim": CLAIM_COUPON}[mutation]
        assert attempts_counted(world, "m", action) == 0


def test_a_query_that_times_out_is_read_again(dynamodb_endpoint):
    with fresh_world(("m",)) as world:
        world.order("m", "o1", 300, T)
        with Faults(db.client(), TIMEOUT_AFTER_COMMIT, nth=1, limit=1, operations=("Query",)) as faults:
            assert world.redeem("m", 100, "spend-1") == "PointsChanged"
        assert faults.injected == 1
        assert world.snapshot()["members"]["m"]["balance"] == 200


# ---- the events path ---------------------------------------------------------------------------------------------


def test_an_event_whose_answer_is_lost_after_the_commit_is_applied_once(dynamodb_endpoint):
    with fresh_world(("m",)) as world:
        with Faults(db.client(), TIMEOUT_AFTER_COMMIT, nth=1, limit=1) as faults:
            summary = world.order("m", "o1", 300, T)
        assert faults.injected == 1
        assert summary["status"] in ("applied", "duplicate") and summary["effects"]
        assert world.snapshot()["members"]["m"]["balance"] == 300


def test_an_event_that_meets_conflicts_past_its_budget_fails_as_busy_for_a_retry_and_writes_nothing(
        quick_budget, dynamodb_endpoint):
    from tests.helpers import business_event, order_paid

    with fresh_world(("m",)) as world:
        event = business_event("order.paid", order_paid(world.brand, world.members["m"], 30000, order_id="o1"),
                               time=T, event_id="pay-o1")
        with Faults(db.client(), CONFLICT, nth=1) as faults:
            with pytest.raises(Busy):  # typed and retryable: Lambda retries the event, which then applies
                world.engine.handle(event)
        assert faults.injected == engine_module.MAX_ATTEMPTS
        assert world.snapshot()["members"]["m"]["balance"] == 0
        assert world.engine.handle(event).status == "applied"
        assert world.snapshot()["members"]["m"]["balance"] == 300


def test_events_through_five_percent_conflicts_and_throttling_all_apply_once(dynamodb_endpoint):
    with fresh_world(("m",)) as world:
        with Faults(db.client(), CONFLICT, fraction=0.3, seed=3) as conflicts, \
                Faults(db.client(), THROTTLE, fraction=0.1, seed=4) as throttles:
            for i in range(20):
                world.order("m", f"o{i}", 10, T + timedelta(minutes=i))
        assert conflicts.injected > 0 and throttles.injected > 0
        assert world.snapshot()["members"]["m"]["balance"] == 200


# ---- 30 orders and their refunds at the same moment, through real threads ---------------------------------------


def test_thirty_orders_racing_their_refunds_lose_no_refund(dynamodb_endpoint):
    roles = tuple(f"m{i}" for i in range(30))
    with fresh_world(roles) as world:
        start = threading.Barrier(60)

        def deliver(send):
            asyncio.set_event_loop(asyncio.new_event_loop())
            start.wait(30)
            return send()

        jobs = []
        for i, role in enumerate(roles):
            jobs.append(lambda role=role: world.order(role, f"o-{role}", 300, T))
            jobs.append(lambda role=role: world.refund(role, f"o-{role}", 100, T + timedelta(hours=1), f"r-{role}"))
        with ThreadPoolExecutor(max_workers=60) as pool:
            summaries = list(pool.map(deliver, jobs))
        assert all(s["status"] == "applied" for s in summaries)
        members = world.snapshot()["members"]
        lost = [role for role in roles if members[role]["balance"] != 200]
        assert lost == [], f"refunds lost for {len(lost)} of 30 members"
