"""Read and write units, computed from the real item sizes by AWS's rules (bench/capacity.py), for what the engine
really sends: the figures bench/cost.py prices. Units and request counts are asserted; times never are."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from bench.capacity import CapacityMeter, item_size, read_units, write_units
from bench.floor import Floor
from infra import db, table
from infra.settings import settings
from tests.helpers import order_paid

T = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=2)


@pytest.fixture
def looker(dynamodb_endpoint):
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)


def test_an_item_weighs_its_attribute_names_and_values_as_aws_counts_them():
    assert item_size({"pk": {"S": "BRAND#b"}}) == 2 + 7
    # A number: one byte per two significant digits, plus one; leading and trailing zeros are not significant.
    assert item_size({"n": {"N": "12345"}}) == 1 + 3 + 1
    assert item_size({"n": {"N": "1000"}}) == 1 + 1 + 1
    # A map or list: 3 bytes, plus one per element, plus the elements (a map's keys too).
    assert item_size({"m": {"M": {"a": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"l": {"L": [{"S": "xy"}, {"NULL": True}]}}) == 1 + 3 + (1 + 2) + (1 + 1)


def test_a_read_unit_is_4_kb_and_a_write_unit_1_kb_transactions_double_eventual_reads_halve():
    assert read_units(4096, consistent=True) == 1 and read_units(4097, consistent=True) == 2
    assert read_units(4097, consistent=False) == 1
    assert read_units(0, consistent=True) == 1  # nothing found still costs a unit
    assert read_units(100, consistent=True, transactional=True) == 2
    assert write_units(1024) == 1 and write_units(1025) == 2
    assert write_units(1025, transactional=True) == 4


def test_a_query_pays_for_the_items_its_filter_drops(dynamodb, looker):
    client = boto3.client("dynamodb", endpoint_url=dynamodb.meta.endpoint_url)
    name = settings().table_name
    pk = f"CAPACITY#{uuid.uuid4().hex}"
    items = [{table.PK: {"S": pk}, table.SK: {"S": f"x{k}"}, "blob": {"S": "z" * 1500}} for k in range(4)]
    for item in items:
        client.put_item(TableName=name, Item=item)
    meter = CapacityMeter(client, looker)
    try:
        with meter.measure() as measure:
            found = client.query(TableName=name, KeyConditionExpression="#p = :p", FilterExpression="#b = :none",
                                 ExpressionAttributeNames={"#p": table.PK, "#b": "blob"},
                                 ExpressionAttributeValues={":p": {"S": pk}, ":none": {"S": "-"}},
                                 ConsistentRead=True)
    finally:
        meter.close()
    assert found["Items"] == []
    (query,) = measure.requests
    assert query.items_read == 4 and query.bytes_read == sum(item_size(i) for i in items)
    assert query.read_units == 2  # 4 x ~1.5 KB, rounded up to 8 KB, strongly consistent


def test_a_write_costs_the_larger_of_the_item_before_and_after_and_the_index_its_copy(dynamodb, looker):
    client = boto3.client("dynamodb", endpoint_url=dynamodb.meta.endpoint_url)
    name = settings().table_name
    key = {table.PK: {"S": f"CAPACITY#{uuid.uuid4().hex}"}, table.SK: {"S": "one"}}
    client.put_item(TableName=name, Item={**key, "blob": {"S": "z" * 3000}})
    meter = CapacityMeter(client, looker)
    try:
        with meter.measure() as measure:
            # Shrinking a 3 KB item to a small one still costs its 3 KB; giving it the index keys adds an index write.
            client.transact_write_items(TransactItems=[{"Put": {"TableName": name, "Item": {
                **key, table.DUE_PK: {"S": "DUE#capacity"}, table.DUE_SK: {"S": "x"}}}}])
    finally:
        meter.close()
    (write,) = measure.requests
    assert write.write_units == 2 * 3 and write.index_write_units == 1


def test_order_paid_for_a_member_with_a_few_past_orders_costs_one_small_read_and_one_transaction(
        engine, store, rules_brand, looker):
    from tests.helpers import register

    member = register(store, rules_brand, T)
    for k in range(3):
        engine.handle({"version": "0", "id": f"past-{uuid.uuid4()}", "detail-type": "order.paid",
                       "source": "siyu.shop", "time": (T + timedelta(minutes=k)).isoformat(),
                       "detail": order_paid(rules_brand, member, 12900)})
    meter = CapacityMeter(db.client(), looker)
    try:
        with meter.measure() as measure:
            summary = engine.handle({"version": "0", "id": f"now-{uuid.uuid4()}", "detail-type": "order.paid",
                                     "source": "siyu.shop", "time": (T + timedelta(hours=1)).isoformat(),
                                     "detail": order_paid(rules_brand, member, 25900)})
    finally:
        meter.close()
    assert summary.as_dict()["status"] == "applied"
    assert measure.by_operation == {"Query": 1, "TransactWriteItems": 1}
    assert measure.read_units == 1
    # Each transactional (2 units per KB): the activity item with the effects (about 1.8 KB, 4 units), the order's
    # two markers (2 each), the lot, the ledger entry, the profile and the processed record, which no longer holds
    # the effects again (it was 2.1 KB, 6 units). A ceiling that may only come down (issue 15 asks for 10).
    assert measure.write_units <= 16 and measure.index_write_units <= 2
    assert measure.bytes_written["PROCESSED"] < 1024


def test_the_floor_order_paid_is_one_eventual_read_free_page_and_three_small_transactional_writes(dynamodb, looker):
    client = boto3.client("dynamodb", endpoint_url=dynamodb.meta.endpoint_url)
    floor = Floor(client, settings().table_name)
    member = floor.member(live_lots=3)
    meter = CapacityMeter(client, looker)
    try:
        with meter.measure() as page:
            floor.member_page(member)
        with meter.measure() as paid:
            floor.order_paid(member, T)
    finally:
        meter.close()
    assert page.read_units == 0.5
    assert paid.by_operation == {"Query": 1, "TransactWriteItems": 1}
    assert paid.read_units == 1 and paid.write_units == 6 and paid.index_write_units == 1
