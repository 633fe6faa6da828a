"""The stage distribution in the brand KPIs equals a plain recount: a generated month of 200 members moving between
lifecycle stages (and some erased), as the segments family's state items change, delivered the way DynamoDB Streams
delivers (interleaved shards, batches handed twice), read back with `insights(from:, to:)`; and real events through
the engine reach it through the embedded table's own stream."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone

import boto3

from events import stream as stream_lambda
from infra import keys, stream
from plugins.segments.effects import STAGES, SegmentState, as_json
from plugins.segments.storage import STATE, SegmentStateItem
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register
from tests.integration.test_insights import delivered, insights, local

SEED = 23
MEMBERS = 200
CHANGES = 2_000


def _item(brand: str, member: str, stage: str, since: datetime) -> SegmentStateItem:
    return SegmentStateItem(keys.member_pk(brand, member), STATE,
                            state=as_json(SegmentState(stage=stage, stage_since=since)))


class StageMonth:
    """Members judged at registration (PROSPECT), then moving between stages; each move is dated by the stage's
    `since`, and the recount is kept by hand, by brand-local day."""

    def __init__(self, brand: str, start: datetime, rng: random.Random) -> None:
        self.records: list[dict] = []
        self.moves: dict[date, Counter] = defaultdict(Counter)
        held: dict[str, SegmentStateItem] = {}
        span = timedelta(days=30).total_seconds()
        for n in range(MEMBERS):
            at = start + timedelta(seconds=span * n / MEMBERS / 2)
            member = f"m{n:03d}"
            held[member] = self._change(None, _item(brand, member, "PROSPECT", at), at)
            self.moves[local(at)]["PROSPECT"] += 1
        times = sorted(start + timedelta(seconds=rng.uniform(span / 2, span)) for _ in range(CHANGES))
        for at in times:
            member = rng.choice(sorted(held))
            old = held[member]
            before = old.state["stage"]
            if rng.random() < 0.01:  # erased: the state item goes, and the member leaves the distribution
                self._change(old, None, at)
                del held[member]
                self.moves[local(at)][before] -= 1
                continue
            after = rng.choice([s for s in STAGES if s != before])
            held[member] = self._change(old, _item(brand, member, after, at), at)
            self.moves[local(at)][before] -= 1
            self.moves[local(at)][after] += 1
        self.members = len(held)

    def _change(self, old, new, at):
        body = {"ApproximateCreationDateTime": at.timestamp(), "SequenceNumber": f"{len(self.records) + 1:021d}",
                "Keys": {"pk": {"S": (new or old).pk}, "sk": {"S": STATE}}, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        if new is not None:
            body["NewImage"] = new.serialize()
        if old is not None:
            body["OldImage"] = old.serialize()
        name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
        self.records.append({"eventID": uuid.uuid4().hex, "eventName": name, "dynamodb": body})
        return new

    def at_end_of(self, day: date) -> dict[str, int]:
        running = Counter()
        for d in sorted(self.moves):
            if d <= day:
                running.update(self.moves[d])
        return {stage: n for stage, n in running.items() if n}


def stages_shown(day: dict) -> dict[str, int]:
    return {b["value"]: b["members"] for d in day["distributions"] if d["name"] == "stages" for b in d["buckets"]}


def test_a_generated_month_of_stage_changes_equals_a_plain_recount_however_the_stream_delivers_it(store):
    rng = random.Random(SEED)
    brand = f"s{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    start = datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)
    month = StageMonth(brand, start, rng)
    for batch in delivered(month.records, rng):
        assert stream_lambda.handler({"Records": batch}) == {"batchItemFailures": []}
        if rng.random() < 0.15:
            assert stream_lambda.handler({"Records": batch}) == {"batchItemFailures": []}
    first, last = local(start), local(start + timedelta(days=31))
    for day, figures in insights(brand, first, last).items():
        assert stages_shown(figures) == month.at_end_of(day), day
    assert sum(month.at_end_of(last).values()) == month.members < MEMBERS  # some were erased


def test_an_order_moves_a_member_from_prospect_to_new_in_the_stage_distribution(fresh_table, dynamodb_endpoint,
                                                                               store, plugins, bus):
    brand = f"s{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER,
                                plugins={"segments": plugins.validate_params("segments", {})}))
    engine = Engine(store, plugins, bus)
    day0 = datetime(2026, 3, 2, 2, 0, tzinfo=timezone.utc)
    alice, bob = register(store, brand, day0), register(store, brand, day0)
    for member in (alice, bob):
        engine.handle(business_event("member.registered", {"brandId": brand, "memberId": member, "channel": "store"},
                                     time=day0))
    buy = business_event("order.paid", order_paid(brand, alice, 5000, "o1"), time=day0 + timedelta(days=1))
    assert engine.handle(buy).status == "applied"
    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint)
    assert stream.poll(streams, fresh_table, {}, store) > 0
    shown = insights(brand, local(day0), local(day0 + timedelta(days=1)))
    assert stages_shown(shown[local(day0)]) == {"PROSPECT": 2}
    assert stages_shown(shown[local(day0 + timedelta(days=1))]) == {"PROSPECT": 1, "NEW": 1}
