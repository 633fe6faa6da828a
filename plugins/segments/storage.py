"""The segments family in the table.

Member partition (`BRAND#b#MEMBER#m`): `SEGMENTS`, the member's segment state (read by the member Query into
`holdings["segment_state"]`, so judging needs no extra read). Per-segment index (`BRAND#b#SEGMENT#<code>`):
`M#<member>` for each member in the segment, written and deleted with the state in the event's transaction, so
`segmentMembers` pages it with a Query (never a Scan). Counts (`BRAND#b#SEGCOUNT`): `<code>#<shard>` counters,
spread over shards so no single item takes every change of a large segment; `segments` reads them with one Query.

Erasure (`ON_ERASURE`): the member's state item, their entries in every segment's index and their share of the
counts go in one transaction, conditioned on the state item as read, so an erasure repeated (or run twice at once)
takes them out of the counts once.
"""

from __future__ import annotations

import hashlib
from typing import Any

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from infra import keys
from infra.models import SiyuItem
from infra.paging import decode_cursor, page
from infra.transactions import connection
from plugins.segments.effects import SegmentState, as_json, from_json
from plugins.segments.model import SegmentsWritten
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


def _state(item: SegmentStateItem) -> SegmentState:
    return from_json(item.state)


class Storage:
    """What the store gains from the segments family (infra/family_storage.py)."""

    def segment_counts(self, brand_id: str) -> dict[str, int]:
        """Members per segment code (one Query of the brand's counters)."""
        counts: dict[str, int] = {}
        for item in SegmentCountItem.query(count_pk(brand_id)):
            code = item.code or item.sk.rsplit("#", 1)[0]
            counts[code] = counts.get(code, 0) + int(item.count)
        return counts

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
    codes = sorted(from_json(item.state).segments)
    shard = _shard(member_id)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.delete(item, condition=SegmentStateItem.state == item.state)
            for code in codes:
                tx.delete(SegmentMemberItem(segment_pk(brand_id, code), MEMBER_PREFIX + member_id))
                tx.update(SegmentCountItem(count_pk(brand_id), f"{code}#{shard}"),
                          actions=[SegmentCountItem.count.add(-1), SegmentCountItem.code.set(code)])
    except TransactWriteError as error:
        if not any(r is not None and r.code == "ConditionalCheckFailed" for r in error.cancellation_reasons or []):
            raise
        # Another erasure of the same member took them out first.


WRITERS = {SegmentsWritten: _write}
ON_ERASURE = (forget_member,)
HOLDINGS = {SegmentStateItem: ("segment_state", _state)}
