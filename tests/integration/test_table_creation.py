"""The local table (`make dev`'s saved data) is created once; what it cannot gain later is refused by name."""

from __future__ import annotations

import uuid

import pytest

from infra import table


def test_a_saved_local_table_without_the_history_index_is_refused_with_what_to_do(dynamodb):
    # Saved by `make dev` before the members' history index: everything but the local secondary index.
    name = f"siyu-old-{uuid.uuid4().hex[:8]}"
    kwargs = table.create_table_kwargs(name)
    del kwargs["LocalSecondaryIndexes"]
    kwargs["AttributeDefinitions"] = [a for a in kwargs["AttributeDefinitions"]
                                      if a["AttributeName"] != table.TIME_SK]
    dynamodb.create_table(**kwargs)
    try:
        with pytest.raises(RuntimeError, match="make dev RESET=1"):
            table.create_table(dynamodb, name)
    finally:
        dynamodb.delete_table(TableName=name)


def test_a_table_created_here_is_found_again_without_complaint(dynamodb):
    name = f"siyu-new-{uuid.uuid4().hex[:8]}"
    table.create_table(dynamodb, name)
    try:
        table.create_table(dynamodb, name)  # every start calls it
        described = dynamodb.describe_table(TableName=name)["Table"]
        assert [i["IndexName"] for i in described["LocalSecondaryIndexes"]] == [table.TIME_INDEX]
    finally:
        dynamodb.delete_table(TableName=name)
