"""The table's change stream (DynamoDB Streams), read as plain changes: which item, as it was and as it is.

In AWS a Lambda event source mapping hands batches of stream records to `events/stream.py`; locally the stack
reads the embedded table's stream through the same DynamoDB Streams API (`poll`). Either way the records become
`Change` values and go to every family whose storage half consumes changes (`consume_changes(store, changes)`,
returning the sequence numbers it could not apply): no family is named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Iterable, Mapping

from rules.family import families

_deserializer: Any = None  # boto3's, made on the first record: importing boto3 is no part of an event's cold start


@dataclass(frozen=True)
class Change:
    record_id: str  # the stream record's id: the same record handed again has the same id
    sequence: str
    event_name: str  # INSERT, MODIFY or REMOVE
    at: datetime  # when the table changed (to the second)
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None


def _image(raw: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not raw:
        return None
    global _deserializer
    if _deserializer is None:
        from boto3.dynamodb.types import TypeDeserializer

        _deserializer = TypeDeserializer()
    return {name: _plain(_deserializer.deserialize(value)) for name, value in raw.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _when(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    return datetime.fromtimestamp(float(value), timezone.utc)


def change(record: Mapping[str, Any]) -> Change:
    """One stream record, as Lambda hands it or as GetRecords returns it."""
    body = record["dynamodb"]
    return Change(record_id=str(record.get("eventID") or body["SequenceNumber"]),
                  sequence=str(body["SequenceNumber"]), event_name=record["eventName"],
                  at=_when(body["ApproximateCreationDateTime"]),
                  old=_image(body.get("OldImage")), new=_image(body.get("NewImage")))


def consume(store: Any, records: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every consuming family gets the batch; the sequence numbers any of them could not apply."""
    changes: list[Change] = []
    failed: set[str] = set()
    records = list(records)
    for index, record in enumerate(records):
        try:
            changes.append(change(record))
        except (KeyError, TypeError, ValueError):  # not a stream record as DynamoDB writes them: kept back
            failed |= {str(r.get("dynamodb", {}).get("SequenceNumber", index)) for r in records[index:]}
            break
    for module in families().modules("storage"):
        consumer = getattr(module, "consume_changes", None)
        if consumer is not None:
            failed |= set(consumer(store, changes))
    return sorted(failed, key=lambda s: (len(s), s))


def poll(streams: Any, table_name: str, positions: dict[str, str], store: Any, *, limit: int = 100) -> int:
    """Read what the table's stream holds past `positions` (shard id -> last sequence number seen) and consume
    it; the number of records read. A local stand-in for the event source mapping: same records, same code."""
    listed = streams.list_streams(TableName=table_name).get("Streams", [])
    if not listed:
        return 0
    stream_arn = listed[0]["StreamArn"]
    read = 0
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"].get("Shards", []):
        shard_id = shard["ShardId"]
        after = positions.get(shard_id)
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard_id,
            **({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after} if after
               else {"ShardIteratorType": "TRIM_HORIZON"}))["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=limit)
            records = page.get("Records", [])
            if not records:
                break
            failed = consume(store, records)
            done = [r for r in records if r["dynamodb"]["SequenceNumber"] not in failed]
            if failed:
                first = min(failed, key=lambda s: (len(s), s))
                done = [r for r in records if (len(r["dynamodb"]["SequenceNumber"]), r["dynamodb"]["SequenceNumber"])
                        < (len(first), first)]
            if done:
                positions[shard_id] = done[-1]["dynamodb"]["SequenceNumber"]
            read += len(done)
            if failed:
                break
            iterator = page.get("NextShardIterator")
    return read
