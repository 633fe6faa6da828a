"""Turning segments on for a brand that already has members: staff start a backfill, fanned out through the sweep
queue, that gives every existing member the stage the playbook says from the orders their history shows; running
it again changes nothing."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from infra import runtime
from plugins.segments.effects import stage_of, state_of
from plugins.segments.storage import SegmentStateItem, STATE
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from infra import keys
from tests.helpers import business_event, call_graphql, order_paid, register, token

NOW = datetime.now(timezone.utc)
START = """mutation { startSegmentsBackfill { __typename ... on SegmentsBackfill {
    membersListed batchesListed batchesDone listingDone complete } } }"""
PROGRESS = "{ segmentsBackfill { startedBy membersListed batchesDone complete } segments { code count } }"


def ago(days: int) -> datetime:
    return NOW - timedelta(days=days)


def staff(query, brand):
    _, body = call_graphql(query, token=token("staff", "ops", brand))
    return body


def test_a_brand_turning_segments_on_gets_every_existing_members_stage_from_their_history_once(
        fresh_table, store, plugins, bus):
    runtime.reset()
    brand = f"bf{uuid.uuid4().hex[:8]}"
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers")}
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    engine = Engine(store, plugins, bus)

    def member(*orders, refunds=()):
        who = register(store, brand, ago(800))
        for n, (days, fen) in enumerate(orders):
            event = business_event("order.paid", order_paid(brand, who, fen, f"{who}-o{n}"), time=ago(days))
            assert engine.handle(event).status == "applied"
        for n, days, fen in refunds:
            event = business_event("order.refunded", {"brandId": brand, "memberId": who, "orderId": f"{who}-o{n}",
                                                      "amountFen": fen, "refundId": f"r{n}"}, time=ago(days))
            assert engine.handle(event).status == "applied"
        return who

    expected = {
        member(): "PROSPECT",
        member((10, 5000)): "NEW",  # a first order 10 days ago
        member((50, 5000), (45, 3000), (5, 8000)): "ACTIVE",
        member((100, 5000), (95, 5000)): "SLEEPING",  # 95 days without an order
        member((200, 9000)): "DORMANT",
        member((400, 9000)): "LOST",
        member((20, 5000), refunds=[(0, 18, 5000)]): "PROSPECT",  # its one order refunded in full: no order
    }
    # Members who registered before the brand turned segments on were never judged.
    assert all(stage_of(store.load_member(brand, m)) is None for m in expected)
    configure_brand(store, plugins, brand, now=NOW, plugin_settings=[("segments", True, {})])

    started = staff(START, brand)
    assert "errors" not in started, started
    assert store.problems(brand, first=5, after=None).items == []
    assert started["data"]["startSegmentsBackfill"] == {"__typename": "SegmentsBackfill", "membersListed": 7, "batchesListed": 1, "batchesDone": 1,
                                                         "listingDone": True, "complete": True}
    assert {m: stage_of(store.load_member(brand, m)) for m in expected} == expected
    shown = staff(PROGRESS, brand)["data"]
    assert shown["segmentsBackfill"] == {"startedBy": "staff:ops", "membersListed": 7, "batchesDone": 1, "complete": True}
    counts = {s["code"]: s["count"] for s in shown["segments"] if s["count"]}
    assert counts == {"STAGE_PROSPECT": 2, "STAGE_NEW": 1, "STAGE_ACTIVE": 1, "STAGE_SLEEPING": 1,
                      "STAGE_DORMANT": 1, "STAGE_LOST": 1}
    sleeper = next(m for m, stage in expected.items() if stage == "SLEEPING")
    state = state_of(store.load_member(brand, sleeper))
    assert state.stage_since == ago(95) + timedelta(days=30) and sum(o.net_fen for o in state.orders) == 10_000

    stored = {m: SegmentStateItem.get(keys.member_pk(brand, m), STATE).state for m in expected}
    again = staff(START, brand)["data"]["startSegmentsBackfill"]
    assert again["complete"] and again["membersListed"] == 7
    assert {m: SegmentStateItem.get(keys.member_pk(brand, m), STATE).state for m in expected} == stored
    assert {s["code"]: s["count"] for s in staff(PROGRESS, brand)["data"]["segments"] if s["count"]} == counts


def test_only_staff_of_a_brand_running_segments_can_start_a_backfill(store, plugins, brand_id):
    refused = staff(START, brand_id)
    assert refused["data"]["startSegmentsBackfill"] == {"__typename": "SegmentsNotEnabled"}
    _, body = call_graphql(START, token=token("member", "m_x", brand_id))
    assert body.get("errors")


def test_through_sqs_the_backfill_lists_shard_by_shard_resumes_and_counts_redelivered_batches_once(
        fresh_table, store, plugins, monkeypatch):
    from bench.sweep_scale import RecordingQueue
    from plugins.segments import backfill
    from rules import fanout

    monkeypatch.setattr(backfill, "PAGE", 3)  # a few items per Scan page: many listing steps
    brand = f"bq{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    members = [register(store, brand, ago(10)) for _ in range(12)]
    configure_brand(store, plugins, brand, now=NOW, plugin_settings=[("segments", True, {})])
    queue = RecordingQueue()
    engine = Engine(store, plugins, None, sweep_queue=queue)

    first = backfill.start(engine, brand, now=NOW, actor="staff:ops")
    assert not first.complete and first.job.listed == 0
    # Started again while it runs: the same job carries on (its next step queued again, which is harmless).
    assert backfill.start(engine, brand, now=NOW + timedelta(minutes=1), actor="staff:ops").job.at == NOW
    delivered = 0
    while queue.messages:
        message = queue.messages.pop(0)
        engine.sweep_message(message)
        if message["kind"] == fanout.BATCH and delivered % 2 == 0:
            engine.sweep_message(message)  # SQS delivers it twice: counted and judged once
        delivered += 1
    done = backfill.progress(store, brand)
    assert done.complete and done.job.listed == 12 and done.batches_done == done.job.batches > 1
    assert {stage_of(store.load_member(brand, m)) for m in members} == {"PROSPECT"}
