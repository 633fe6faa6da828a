"""The segments family in the table.

Member partition (`BRAND#b#MEMBER#m`): `SEGMENTS`, the member's segment state (read by the member Query into
`holdings["segment_state"]`, so judging needs no extra read). Per-segment index (`BRAND#b#SEGMENT#<code>`):
`M#<member>` for each member in the segment, written and deleted with the state in the event's transaction, so
`segmentMembers` pages it with a Query (never a Scan). Counts (`BRAND#b#SEGCOUNT`): `<code>#<shard>` counters,
spread over shards so no single item takes every change of a large segment; `segments` reads them with one Query.

Spend distribution (`BRAND#b#SPEND`): `<bucket>#<shard>` counters, the members of each bucket of 12-month net spend
(plugins/segments/model.py `spend_bucket`), moved in the same transaction as the member's state; the daily line
sweep reads them with one Query and writes the high-value line into the brand's `segments` parameters.

Backfill job (`BRAND#b#SEGBACKFILL`, `JOB`): the brand's latest backfill (plugins/segments/backfill.py), its
shards' listing cursors and counts, versioned; its batches are counted by the fanned-out run (infra/sweep_runs.py).

Erasure (`ON_ERASURE`): the member's state item, their entries in every segment's index and their share of the
counts go in one transaction, conditioned on the state item as read, so an erasure repeated (or run twice at once)
takes them out of the counts once.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from pynamodb.exceptions import PutError

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from infra import keys
from infra.paging import decode_cursor, page
from infra.transactions import connection
from plugins.segments.effects import SegmentState, as_json, from_json
from infra.dynamo_errors import response_code
from infra.models import ActivityItem, BrandItem, OrderItem, SiyuItem
from plugins.segments.backfill import BackfillJob
from plugins.segments.model import SegmentsWritten, ValueLineWritten
from rules.persistence import Page

STATE = "SEGMENTS"
MEMBER_PREFIX = "M#"
COUNT_SHARDS = 8


class SegmentStateItem(SiyuItem, discriminator="segment_state"):
    state = JSONAttribute()


class SegmentMemberItem(SiyuItem, discriminator="segment_member"):
    member_id = UnicodeAttribute()
    since = UTCDateTimeAttribute()


class SegmentCountItem(SiyuItem, discriminator="segment_count"):
    code = UnicodeAttribute(null=True)
    count = NumberAttribute(default=0)


class SpendCountItem(SiyuItem, discriminator="spend_count"):
    bucket = NumberAttribute(null=True)
    count = NumberAttribute(default=0)


class BackfillJobItem(SiyuItem, discriminator="segment_backfill"):
    job = JSONAttribute()
    version = NumberAttribute(default=0)


def backfill_pk(brand_id: str) -> str:
    return f"{keys.brand_pk(brand_id)}#SEGBACKFILL"


def _job_json(job: BackfillJob) -> dict[str, Any]:
    return {"at": job.at.isoformat(), "startedBy": job.started_by, "cursors": dict(job.cursors),
            "listed": job.listed, "batches": job.batches}


def _job(brand_id: str, item: BackfillJobItem) -> BackfillJob:
    data = item.job
    return BackfillJob(brand_id, datetime.fromisoformat(data["at"]), data["startedBy"], dict(data["cursors"]),
                       int(data["listed"]), int(data["batches"]), int(item.version))


def spend_pk(brand_id: str) -> str:
    return f"{keys.brand_pk(brand_id)}#SPEND"


def _spend_sk(bucket: int, shard: int) -> str:
    return f"{bucket:04d}#{shard}"


def segment_pk(brand_id: str, code: str) -> str:
    return f"{keys.brand_pk(brand_id)}#SEGMENT#{code}"


def count_pk(brand_id: str) -> str:
    return f"{keys.brand_pk(brand_id)}#SEGCOUNT"


def _shard(member_id: str) -> int:
    return int(hashlib.sha256(member_id.encode()).hexdigest()[:8], 16) % COUNT_SHARDS


def _write(tx: Any, write: SegmentsWritten, record: Any) -> None:
    # No conditions of their own: the member's version, a condition of the same transaction, serialises them.
    tx.put("conflict", SegmentStateItem(keys.member_pk(write.brand_id, write.member_id), STATE,
                                        state=as_json(write.state)), None)
    shard = _shard(write.member_id)
    for code, since in write.entered.items():
        tx.put("conflict", SegmentMemberItem(segment_pk(write.brand_id, code), MEMBER_PREFIX + write.member_id,
                                             member_id=write.member_id, since=since), None)
        tx.add(SegmentCountItem(count_pk(write.brand_id), f"{code}#{shard}"), also_set={"code": code}, count=1)
    for code in write.left:
        tx.delete("conflict", SegmentMemberItem(segment_pk(write.brand_id, code), MEMBER_PREFIX + write.member_id))
        tx.add(SegmentCountItem(count_pk(write.brand_id), f"{code}#{shard}"), also_set={"code": code}, count=-1)
    if write.bucket_before != write.state.spend_bucket:
        for bucket, delta in ((write.bucket_before, -1), (write.state.spend_bucket, 1)):
            if bucket is not None:
                tx.add(SpendCountItem(spend_pk(write.brand_id), _spend_sk(bucket, shard)),
                       also_set={"bucket": bucket}, count=delta)


def _write_line(tx: Any, write: ValueLineWritten, record: Any) -> None:
    brand = write.brand
    plugins = {**brand.plugins, "segments": {**brand.plugins.get("segments", {}), "valueLine": dict(write.line)}}
    tx.update("conflict", BrandItem(keys.brand_pk(brand.brand_id), keys.CONFIG),
              [BrandItem.plugins.set(plugins), BrandItem.version.add(1)], BrandItem.version == brand.version)


def _state(item: SegmentStateItem) -> SegmentState:
    return from_json(item.state)


class Storage:
    """What the store gains from the segments family (infra/family_storage.py)."""

    def spend_counts(self, brand_id: str) -> dict[int, int]:
        """Members per bucket of 12-month net spend (one Query of the brand's counters, all shards)."""
        counts: dict[int, int] = {}
        for item in SpendCountItem.query(spend_pk(brand_id), consistent_read=True):
            bucket = int(item.bucket) if item.bucket is not None else int(item.sk.split("#", 1)[0])
            counts[bucket] = counts.get(bucket, 0) + int(item.count)
        return {bucket: n for bucket, n in counts.items() if n}

    def segment_counts(self, brand_id: str) -> dict[str, int]:
        """Members per segment code (one Query of the brand's counters)."""
        counts: dict[str, int] = {}
        for item in SegmentCountItem.query(count_pk(brand_id)):
            code = item.code or item.sk.rsplit("#", 1)[0]
            counts[code] = counts.get(code, 0) + int(item.count)
        return counts

    def backfill_job(self, brand_id: str) -> BackfillJob | None:
        try:
            return _job(brand_id, BackfillJobItem.get(backfill_pk(brand_id), "JOB", consistent_read=True))
        except BackfillJobItem.DoesNotExist:
            return None

    def save_backfill_job(self, job: BackfillJob, *, expected: int | None) -> BackfillJob | None:
        """Write the job on the version read (`expected`; None: there was none); None if it moved meanwhile."""
        saved = BackfillJobItem(backfill_pk(job.brand_id), "JOB", job=_job_json(job), version=(expected or 0) + 1)
        condition = (BackfillJobItem.pk.does_not_exist() if expected is None
                     else BackfillJobItem.version == expected)
        try:
            saved.save(condition=condition)
        except PutError as error:
            if response_code(error) == "ConditionalCheckFailedException":
                return None
            raise
        return BackfillJob(job.brand_id, job.at, job.started_by, dict(job.cursors), job.listed, job.batches,
                           (expected or 0) + 1)

    def brand_member_page(self, brand_id: str, shard: int, shards: int, cursor: str | None,
                          limit: int) -> tuple[list[str], str | None]:
        """One page of one segment of a parallel Scan, filtered to the brand's live members (no index lists a
        brand's members): their ids and the cursor to go on from (None: the segment is done)."""
        client = SiyuItem._get_connection().connection.client
        kwargs: dict[str, Any] = {
            "TableName": SiyuItem.Meta.table_name, "Segment": shard, "TotalSegments": shards, "Limit": limit,
            "FilterExpression": "#t = :member AND brand_id = :brand AND attribute_not_exists(erased_at)",
            "ProjectionExpression": "member_id", "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": {":member": {"S": "member"}, ":brand": {"S": brand_id}},
            "ConsistentRead": True}
        if cursor:
            kwargs["ExclusiveStartKey"] = json.loads(cursor)
        answer = client.scan(**kwargs)
        found = [item["member_id"]["S"] for item in answer.get("Items", [])]
        after = answer.get("LastEvaluatedKey")
        return found, (json.dumps(after, sort_keys=True) if after else None)

    def member_order_activity(self, brand_id: str, member_id: str) -> list[tuple[str, datetime, str, list]]:
        """The member's order and refund activity records (detail type, time, event id, effects), every page."""
        # The member's history in time order (infra/table.py, `byTime`): an order's item holds its order.paid.
        return [(i.detail_type, i.at, i.event_id, list(i.what_happened))
                for i in SiyuItem.by_time.query(keys.ledger_pk(brand_id, member_id))
                if isinstance(i, (ActivityItem, OrderItem)) and i.detail_type in ("order.paid", "order.refunded")]

    def segment_members(self, brand_id: str, code: str, *, first: int, after: str | None) -> Page:
        """A page of the segment's members (member id, since), in member id order."""
        start = None
        if after:
            sk = decode_cursor(after, MEMBER_PREFIX)
            start = {"pk": {"S": segment_pk(brand_id, code)}, "sk": {"S": sk}}
        results = SegmentMemberItem.query(segment_pk(brand_id, code), limit=first + 1, page_size=first + 1,
                                          last_evaluated_key=start)
        return page(results, first, lambda i: i.sk, lambda i: (i.member_id, i.since))


def forget_member(brand_id: str, member_id: str) -> None:
    """An erased member leaves every segment: index entries deleted, counts decremented, state item gone."""
    try:
        item = SegmentStateItem.get(keys.member_pk(brand_id, member_id), STATE, consistent_read=True)
    except SegmentStateItem.DoesNotExist:
        return  # never judged, or forgotten already
    state = from_json(item.state)
    codes = sorted(state.segments)
    shard = _shard(member_id)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(item, condition=SegmentStateItem.state == item.state)
            for code in codes:
                tx.delete(SegmentMemberItem(segment_pk(brand_id, code), MEMBER_PREFIX + member_id))
                tx.update(SegmentCountItem(count_pk(brand_id), f"{code}#{shard}"),
                          actions=[SegmentCountItem.count.add(-1), SegmentCountItem.code.set(code)])
            if state.spend_bucket is not None:
                tx.update(SpendCountItem(spend_pk(brand_id), _spend_sk(state.spend_bucket, shard)),
                          actions=[SpendCountItem.count.add(-1), SpendCountItem.bucket.set(state.spend_bucket)])
    except TransactWriteError as error:
        if not any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
            raise
        # Another erasure of the same member took them out first.


WRITERS = {SegmentsWritten: _write, ValueLineWritten: _write_line}
ON_ERASURE = (forget_member,)
HOLDINGS = {SegmentStateItem: ("segment_state", _state)}
