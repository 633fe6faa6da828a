"""The one definition of Siyu's DynamoDB table: keys, indexes and TTL.

Everything that creates or declares the table reads it from here: the local stack and the tests create the table
with `create_table_kwargs()`, the pynamodb models take their attribute names from it, and a test checks that the
`SiyuTable` resource in `serverless.yml` declares exactly the same thing.
"""

from __future__ import annotations

from typing import Any

PK = "pk"
SK = "sk"

# Sparse index of what falls due on a day (a points lot expiring while it still holds points, a tier's validity
# ending, a commission leaving its refund window, an alert's response deadline), keyed by UTC day and a shard.
# A sweep reads only what is due: its cost follows the work, never the number of members.
DUE_INDEX = "byDue"
DUE_PK = "gsi1pk"
DUE_SK = "gsi1sk"

# Items that only need to live for a while (idempotency records, processed-event markers, crisis counters)
# carry an epoch-seconds expiry here and DynamoDB deletes them in the background.
TTL_ATTRIBUTE = "ttl"

# The table's change stream: what the brand KPIs are counted from, off the event path (plugins/insights/). Both
# images, so a change says what an item was and what it became (a coupon turning "used", a tier moving).
STREAM_SPECIFICATION = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}

# A member's history in time order (issue 15): a local secondary index on the table's partition key, ranged by
# `t` = `<time key>#<event or request id>`. Every history item carries `t` (an order item holding the event that
# opened the order, the activity item of any other event with its ledger entries, an entry posted without an event);
# nothing else does, so the index is sparse. The feed, the ledger history, an entry by its id, exports and erasure
# read through it (strongly consistent when asked: an LSI can). Projects everything: a history item is read whole,
# and an order item's write (under 1 KB) costs one index unit whatever the projection.
TIME_INDEX = "byTime"
TIME_SK = "t"

KEY_ATTRIBUTES = {PK: "S", SK: "S", DUE_PK: "S", DUE_SK: "S", TIME_SK: "S"}

TABLE_KEYS = [
    {"AttributeName": PK, "KeyType": "HASH"},
    {"AttributeName": SK, "KeyType": "RANGE"},
]

GLOBAL_SECONDARY_INDEXES = [
    {
        "IndexName": DUE_INDEX,
        "KeySchema": [
            {"AttributeName": DUE_PK, "KeyType": "HASH"},
            {"AttributeName": DUE_SK, "KeyType": "RANGE"},
        ],
        # The sweeps read only the index keys (who, what, when) and the item's kind: an update of what else an
        # item holds (a profile's balance and growth on every order, a lot's remainder) then writes nothing to
        # the index; only entering, moving in or leaving it does (README, "Benchmarks").
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["type"]},
    }
]


LOCAL_SECONDARY_INDEXES = [
    {
        "IndexName": TIME_INDEX,
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": TIME_SK, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }
]


def attribute_definitions() -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": kind} for name, kind in KEY_ATTRIBUTES.items()]


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for boto3's `create_table`, on-demand billing as in the cloud."""
    return {
        "TableName": table_name,
        "KeySchema": TABLE_KEYS,
        "AttributeDefinitions": attribute_definitions(),
        "GlobalSecondaryIndexes": GLOBAL_SECONDARY_INDEXES,
        # Only at creation: a table made before the index must be created again (nothing is deployed yet).
        "LocalSecondaryIndexes": LOCAL_SECONDARY_INDEXES,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": STREAM_SPECIFICATION,
    }


def create_table(client: Any, table_name: str, *, stream: bool = True) -> None:
    """Create the table (and its TTL) if it is missing; safe to call on every start. `stream=False` only for a
    table nothing reads the stream of (the test suite's shared table: moto keeps every record in memory)."""
    existing = client.list_tables().get("TableNames", [])
    if table_name in existing:
        # A table kept from before the stream was declared (`make dev`'s saved data) gets it now.
        described = client.describe_table(TableName=table_name)["Table"]
        if stream and not described.get("StreamSpecification", {}).get("StreamEnabled"):
            client.update_table(TableName=table_name, StreamSpecification=STREAM_SPECIFICATION)
        # A local secondary index exists only from a table's creation: a table saved before the members' history
        # index cannot gain it, and without it the history would silently read as empty.
        if TIME_INDEX not in {i["IndexName"] for i in described.get("LocalSecondaryIndexes", [])}:
            raise RuntimeError(f"table {table_name} was created before the {TIME_INDEX} index (members' history) and "
                               "cannot gain it: start the local stack with `make dev RESET=1` to create it again")
        return
    kwargs = create_table_kwargs(table_name)
    if not stream:
        del kwargs["StreamSpecification"]
    client.create_table(**kwargs)
    client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.05, "MaxAttempts": 200})
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
    )
