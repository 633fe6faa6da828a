"""Daily-sweep cost per due member, counted (DynamoDB requests, never times), at two sizes on the embedded stack.

    .venv/bin/python bench/sweep_scale.py                 # 2,000 vs 100,000 due members (long: it applies them all)
    .venv/bin/python bench/sweep_scale.py --sizes 200 2000

Each size gets a table of its own with one brand and N members, each holding one lot that expires on the sweep's
day. The sweep runs through a recording queue, as it runs on AWS: the coordinator (listing by shard, handing out
batches) is counted apart from the workers (each batch: load, write off, count the batch done), then every batch
message is delivered to `Engine.sweep_message` as the SQS worker does, and the `coordinate` call the day's last
batch sends. Printed: requests per due member of each part at each size, and the wall time per batch measured here
(the embedded server, one process) from which the README works out a million members at the configured worker
concurrency (serverless.yml `sweepWorkers`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pynamodb.models import BatchWrite  # noqa: E402

from infra import db, keys, settings, table  # noqa: E402
from infra.dynamo_store import DynamoStore  # noqa: E402
from infra.models import LotItem, MemberItem  # noqa: E402
from rules import fanout, sweeps  # noqa: E402
from rules.brand_settings import configure_brand  # noqa: E402
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig  # noqa: E402
from rules.engine import Engine  # noqa: E402
from rules.events import SweepEvent  # noqa: E402
from rules.plugin_manager import registry  # noqa: E402
from rules.sweeps import DAILY  # noqa: E402

DAY = datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)  # brand-local midnight in Shanghai


class RecordingQueue:
    """A queue whose messages the caller delivers: the SQS path (`in_process` False), in one process."""

    in_process = False

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        self.messages.extend(messages)

    def abandoned(self, run: sweeps.SweepRun, now: datetime) -> bool:  # as infra/sweep_queue.py's
        return run.total is None or now - run.opened_at > fanout.RELIST_AFTER


@dataclass
class Measure:
    members: int  # due on the day, all listed by the coordinator
    batches: int  # delivered to workers
    applied: int  # members in the delivered batches
    handed: int  # batches the coordinator handed out
    coordinator_requests: int
    worker_requests: int
    worker_seconds: float
    expired: int

    @property
    def coordinator_per_member(self) -> float:
        return self.coordinator_requests / self.members

    @property
    def worker_per_member(self) -> float:
        return self.worker_requests / self.applied

    @property
    def seconds_per_batch(self) -> float:
        return self.worker_seconds / self.batches


def seed(brand_id: str, members: int, due: datetime) -> list[str]:
    """N members of the brand, each with one 10-point lot expiring at `due`: the profile and the lot exactly as
    `points.earn` leaves them (balance, the lot's due-index entry), written in batches so 100,000 take minutes."""
    ids = [f"m{n:07d}{uuid.uuid4().hex[:6]}" for n in range(members)]
    earned = due - timedelta(days=30)
    with BatchWrite(MemberItem) as writer:
        for member_id in ids:
            writer.save(MemberItem(keys.member_pk(brand_id, member_id), keys.PROFILE, brand_id=brand_id,
                                   member_id=member_id, tier_code=BAIGUOYUAN_LADDER[0].code, growth=0,
                                   balance=10, version=1, registered_at=earned, channel="import"))
    with BatchWrite(LotItem) as writer:
        for member_id in ids:
            lot_id = f"{keys.time_key(earned)}-{member_id[-6:]}"
            writer.save(LotItem(keys.member_pk(brand_id, member_id), keys.lot_sk(due, lot_id), brand_id=brand_id,
                                member_id=member_id, lot_id=lot_id, earned=10, remaining=10, earned_at=earned,
                                expires_at=due, source="seed",
                                gsi1pk=keys.due_pk(due, member_id),
                                gsi1sk=keys.due_sk(due, "LOT", brand_id, member_id, lot_id)))
    return ids


def measure(store: DynamoStore, plugins: Any, members: int, *, brand_id: str | None = None,
            reminders: int = 0, sample: int | None = None) -> Measure:
    """Sweep one day on which `members` members have a lot falling due; count each part's requests. With `sample`,
    the coordinator lists and hands out the whole day but only the first `sample` batches are delivered (the
    workers' figures are then theirs; the day stays unfinished)."""
    brand_id = brand_id or f"scale{uuid.uuid4().hex[:6]}"
    store.put_brand(BrandConfig(brand_id, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand_id, now=DAY - timedelta(days=1, hours=1), plugin_settings=[
        ("points_expiry", True, {"remindDaysBefore": reminders})])
    seed(brand_id, members, DAY - timedelta(hours=1))
    queue = RecordingQueue()
    engine = Engine(store, plugins, None, sweep_queue=queue)
    engine.sweep(SweepEvent(event_id=f"scale-{members}", sweep=DAILY, time=DAY - timedelta(days=1)))
    with db.count_requests() as coordinator:
        engine.sweep(SweepEvent(event_id=f"scale-{members}", sweep=DAILY, time=DAY))
    handed = [m for m in queue.messages if m["kind"] == fanout.BATCH]
    batches = handed[:sample] if sample else handed
    queue.messages.clear()
    worker_seconds = 0.0
    expired = 0
    with db.count_requests() as workers:
        for message in batches:
            started = time.perf_counter()
            summary = engine.sweep_message(message)
            worker_seconds += time.perf_counter() - started
            expired += sum(1 for e in summary.effects if e.get("effect") == "ExpirePoints")
    # The day's last batch called the coordinator back: it moves the watermark (counted with the coordinator).
    with db.count_requests() as callback:
        for message in list(queue.messages):
            engine.sweep_message(message)
    applied = sum(len(m["members"]) for m in batches)
    if batches is handed:
        assert store.sweep_watermarks(DAILY)[brand_id] == DAY, "the day must be done once its batches are"
    return Measure(members=members, batches=len(batches), applied=applied, handed=len(handed),
                   coordinator_requests=coordinator.total + callback.total, worker_requests=workers.total,
                   worker_seconds=worker_seconds, expired=expired)


def fresh_store(client: Any) -> DynamoStore:
    name = f"siyu-sweep-scale-{uuid.uuid4().hex[:8]}"
    table.create_table(client, name)
    os.environ["TABLE_NAME"] = name
    db.bind(settings.reload())
    return DynamoStore(brand_cache_seconds=60)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(2_000, 100_000))
    parser.add_argument("--workers", type=int, default=10, help="worker concurrency (serverless.yml sweepWorkers)")
    parser.add_argument("--sample-batches", type=int, default=None,
                        help="deliver only this many batches per size (the coordinator still lists everything)")
    args = parser.parse_args(argv)
    import boto3

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    server = EmbeddedDynamoDB().start()
    try:
        os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
        plugins = registry()
        results = []
        for size in args.sizes:
            store = fresh_store(boto3.client("dynamodb", endpoint_url=server.endpoint))
            results.append(measure(store, plugins, size, sample=args.sample_batches))
    finally:
        server.stop()
    print(f"{'due members':>12} {'batches out':>11} {'applied':>8} {'coordinator req/member':>23} "
          f"{'worker req/member':>18} {'s per batch':>12}")
    for r in results:
        print(f"{r.members:>12,} {r.handed:>11,} {r.applied:>8,} {r.coordinator_per_member:>23.4f} "
              f"{r.worker_per_member:>18.4f} {r.seconds_per_batch:>12.3f}")
    per_batch = max(r.seconds_per_batch for r in results)
    million_batches = -(-1_000_000 // sweeps.BATCH_SIZE)
    hours = million_batches * per_batch / args.workers / 3600
    print(f"1,000,000 due members: {million_batches:,} batches x {per_batch:.3f} s / {args.workers} workers "
          f"= {hours:.2f} h ({hours * 60:.0f} min)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
