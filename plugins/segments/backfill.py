"""Backfill: when a brand turns segments on with members already in the store, every existing member gets their
stage, RFM layer and segments from the orders their history shows, through the sweep fan-out (rules/fanout.py).

A job per brand (the latest is kept): `start` opens a fanned-out run named `segments-backfill@<brand>` at the
request's time and queues a `coordinate` message; each coordinate lists one page of every shard of the brand's
members (the store's `brand_member_page`: a parallel Scan segment, filtered to the brand's live members, since no
index lists a brand's members), queues them as batches, saves the shards' cursors on the job's version, and queues
the next coordinate until every shard is listed. Workers judge each member (`siyu_segments_backfill`) under event
ids derived from the job's time and the member, so a batch delivered twice, or a coordinate listing a page again,
changes nothing; a member judged before (an event since the family was turned on) is merged with their history and
re-judged, so running a second job writes nothing for members already right.

Progress is the run's batches done against those listed (`SweepRun`) and the job's members listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Mapping

from rules import fanout, sweeps
from rules.ids import time_key

BACKFILL = "segments-backfill"
SHARDS = 4  # the brand's member listing runs as this many independent Scan segments
PAGE = 500  # items a Scan page looks at (members of other brands included) per shard and coordinate
DONE = "-"  # a shard's cursor once it is listed to the end
ATTEMPT = "1"  # one listing per job: a new job is a new run


@dataclass(frozen=True)
class BackfillJob:
    brand_id: str
    at: datetime  # the job's "now": every member is judged at it
    started_by: str
    cursors: Mapping[str, str | None] = field(default_factory=lambda: {str(s): None for s in range(SHARDS)})
    listed: int = 0  # members handed out
    batches: int = 0  # batches handed out
    version: int = 0

    @property
    def listing_done(self) -> bool:
        return all(c == DONE for c in self.cursors.values())


@dataclass(frozen=True)
class Progress:
    job: BackfillJob
    batches_done: int
    complete: bool


def run_name(brand_id: str) -> str:
    return f"{BACKFILL}@{brand_id}"


def _event_id(job: BackfillJob) -> str:
    return f"{BACKFILL}:{job.brand_id}:{time_key(job.at)}"


def progress(store: Any, brand_id: str) -> Progress | None:
    job = store.backfill_job(brand_id)
    if job is None:
        return None
    run = store.sweep_run(run_name(brand_id), job.at)
    done = run.done if run is not None else 0
    return Progress(job, done, job.listing_done and done >= job.batches)


def start(engine: Any, brand_id: str, *, now: datetime, actor: str) -> Progress:
    """Start the brand's backfill (staff), or carry on with the one under way. Idempotent: a job whose workers
    are elsewhere (SQS) is carried on; in process, where queued work dies with the process, an unfinished job is
    started again as a new one (members already judged cost a read and write nothing)."""
    store, queue = engine.store, engine.sweep_queue
    current = progress(store, brand_id)
    if current is not None and not current.complete and not queue.in_process:
        if not current.job.listing_done:
            queue.send([fanout.coordinate_message(run_name(brand_id), _event_id(current.job), current.job.at)])
        return current
    job = BackfillJob(brand_id, now, actor)
    store.open_sweep_run(run_name(brand_id), sweeps.SweepRun(until=now, attempt=ATTEMPT, opened_at=now,
                                                             covers=frozenset({brand_id})), replacing=None)
    job = store.save_backfill_job(job, expected=current.job.version if current else None)
    if job is None:  # another request started one meanwhile: that one is the brand's job
        return progress(store, brand_id)
    queue.send([fanout.coordinate_message(run_name(brand_id), _event_id(job), now)])
    if queue.in_process:
        _drain(engine)
    return progress(store, brand_id)


def coordinate(engine: Any, message: Mapping[str, Any]) -> Any:
    """One listing step of a job (a `coordinate` message of the sweep queue): a page of each unfinished shard."""
    store, queue = engine.store, engine.sweep_queue
    brand_id = message["sweep"].split("@", 1)[1]
    job = store.backfill_job(brand_id)
    at = datetime.fromisoformat(message["runAt"])
    if job is None or job.at != at or job.listing_done:
        return None  # a step of a job replaced since, or already listed
    cursors = dict(job.cursors)
    members: list[tuple[str, str]] = []
    for shard, cursor in sorted(job.cursors.items()):
        if cursor == DONE:
            continue
        found, after = store.brand_member_page(brand_id, int(shard), SHARDS, cursor, PAGE)
        members += [(brand_id, m) for m in found]
        cursors[shard] = after or DONE
    chunks = sweeps.batches(members)
    # Batches first, numbered after those already out: a step listed twice (its save lost) sends the same
    # numbers with the same members, which count once (the run's batch markers) and judge once (event ids).
    queue.send([fanout.batch_message(message["sweep"], _event_id(job), at, at, ATTEMPT, job.batches + n, chunk)
                for n, chunk in enumerate(chunks, start=1)])
    saved = store.save_backfill_job(replace(job, cursors=cursors, listed=job.listed + len(members),
                                            batches=job.batches + len(chunks)), expected=job.version)
    if saved is None:
        return None  # another coordinator took this step
    if saved.listing_done:
        store.close_sweep_listing(message["sweep"], at, ATTEMPT, saved.batches)
    else:
        queue.send([fanout.coordinate_message(message["sweep"], _event_id(job), at)])
    return None


def _drain(engine: Any) -> None:
    """In process (local stack, CLI, tests): work the queue as the SQS workers would."""
    queue = engine.sweep_queue
    while (message := queue.take()) is not None:
        engine.sweep_message(message)


def targets(store: Any, until: datetime) -> list:
    return []  # never a scheduled sweep: staff start it (`startSegmentsBackfill`)
