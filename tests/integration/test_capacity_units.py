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
    # One Query for the member's state (profile, lots, holdings); a new order's markers are not read: order.paid
    # puts the order's item only if it does not exist yet.
    assert measure.by_operation == {"Query": 1, "TransactWriteItems": 1}
    assert measure.read_units == 1
    # Four items, each under 1 KB and so 2 units (transactional): the processed record (no copy of the effects),
    # the order's item (every plugin's markers about the order, and the event's effects and ledger entry, packed),
    # the lot and the profile. It was 12 table units (six items). Index writes: the order item's copy in the
    # member's history (`byTime`, 1 KB) and the profile's new tier validity in the due index (this order makes the
    # member silver); the new lot is not listed, since the member holds earlier lots (only the earliest is).
    assert measure.write_units == 8 and measure.index_write_units == 2
    assert all(size < 1024 for size in measure.bytes_written.values())
    assert set(measure.bytes_written) == {"PROCESSED", "O", "LOT", "PROFILE"}


def test_order_paid_reads_as_much_for_a_member_with_3000_past_orders_as_for_one_with_10(
        engine, store, rules_brand, looker):
    from bench.history import clone_orders
    from tests.helpers import register

    def paid(member, order_id, at, amount=12900):
        return engine.handle({"version": "0", "id": f"o-{uuid.uuid4()}", "detail-type": "order.paid",
                              "source": "siyu.shop", "time": at.isoformat(),
                              "detail": {**order_paid(rules_brand, member, amount), "orderId": order_id}})

    newcomer, veteran = register(store, rules_brand, T), register(store, rules_brand, T)
    for member in (newcomer, veteran):
        for k in range(10):
            paid(member, f"{member}-{k}", T + timedelta(minutes=k))
    # 2,990 more past orders for the veteran, written directly as the engine leaves them (each order's item with
    # its markers, effects and entry; check-in markers): what a read pays for is what the partitions hold.
    orders = [f"{veteran}-{k}" for k in range(10, 3000)]
    assert clone_orders(db.client(), settings().table_name, rules_brand, veteran, template_order=f"{veteran}-9",
                        order_ids=orders, before=T + timedelta(minutes=10)) >= len(orders)
    meter = CapacityMeter(db.client(), looker)
    try:
        measures = {}
        for member in (newcomer, veteran):
            with meter.measure() as measures[member]:
                assert paid(member, f"{member}-new", T + timedelta(hours=1)).status == "applied"
        with meter.measure() as refund:
            summary = engine.handle({"version": "0", "id": f"r-{uuid.uuid4()}", "detail-type": "order.refunded",
                                     "source": "siyu.shop", "time": (T + timedelta(hours=2)).isoformat(),
                                     "detail": {"brandId": rules_brand, "memberId": veteran,
                                                "orderId": f"{veteran}-2500", "amountFen": 12900}})
    finally:
        meter.close()
    few, many = measures[newcomer], measures[veteran]
    assert many.by_operation == few.by_operation == {"Query": 1, "TransactWriteItems": 1}
    assert many.write_units == few.write_units == 8
    # Both hold ten unspent lots (what their points are in); the veteran's 3,000 orders' markers are not read.
    assert many.read_units <= 1.5 * few.read_units
    assert many.read_units == few.read_units
    # The refund of one of the 3,000 orders finds that order's markers (its points come back out) with as few.
    assert summary.status == "applied" and any(e["effect"] == "TakeBackPoints" for e in summary.effects)
    assert refund.by_operation == {"Query": 1, "GetItem": 1, "TransactWriteItems": 1}
    # The order's item by key is 1 unit. The member holds one lot more than at the order measured above (that
    # order's), which takes the state read just over 4 KB (2 units): a matter of lots held, not of past orders.
    assert refund.read_units <= few.read_units + 2


def _order(member, brand, at, amount=12900):
    return {"version": "0", "id": f"o-{uuid.uuid4()}", "detail-type": "order.paid", "source": "siyu.shop",
            "time": at.isoformat(), "detail": order_paid(brand, member, amount)}


def test_the_member_page_costs_the_same_for_a_member_with_forty_orders_and_for_one_with_two(
        engine, store, rules_brand, looker):
    from rules import points
    from tests.helpers import register

    newcomer, regular = register(store, rules_brand, T), register(store, rules_brand, T)
    for k in range(2):
        engine.handle(_order(newcomer, rules_brand, T + timedelta(minutes=k)))
    for k in range(40):
        engine.handle(_order(regular, rules_brand, T + timedelta(minutes=k)))
        if k % 10 == 9:  # most of the balance redeemed now and then: lots empty, as they do
            balance = store.load_member(rules_brand, regular).points.balance
            points.redeem(store, rules_brand, regular, points=balance - 10, now=T + timedelta(minutes=k, seconds=30),
                          idempotency_key=f"r-{k}")
    meter = CapacityMeter(db.client(), looker)
    try:
        pages = {}
        for member in (newcomer, regular):
            with meter.measure() as pages[member]:
                state = store.load_member(rules_brand, member, page=True, as_of=T + timedelta(hours=1))
            assert state.points.balance == sum(lot.remaining for lot in state.points.lots)
    finally:
        meter.close()
    # The regular's forty orders' markers, emptied lots and redemption records are not in what the page reads:
    # one eventually consistent read unit (half a unit) each.
    assert pages[newcomer].read_units == pages[regular].read_units == 0.5
    assert pages[regular].by_operation == {"Query": 1}
    assert set(pages[regular].bytes_read) <= {"PROFILE", "LOT", "MARK", "COUPON", "COUPONCOUNT", "CONSENT"}


def test_an_emptied_lot_leaves_the_member_partition_and_a_reversal_brings_it_back(engine, store, rules_brand,
                                                                                   looker, dynamodb):
    from rules import points
    from tests.helpers import register

    member = register(store, rules_brand, T)
    engine.handle(_order(member, rules_brand, T))
    (lot,) = store.load_member(rules_brand, member).points.lots
    spent = points.redeem(store, rules_brand, member, points=lot.remaining, now=T + timedelta(minutes=1),
                          idempotency_key="all-of-it")
    client = boto3.client("dynamodb", endpoint_url=dynamodb.meta.endpoint_url)
    lots = client.query(TableName=settings().table_name, KeyConditionExpression="pk = :pk AND begins_with(sk, :l)",
                        ExpressionAttributeValues={":pk": {"S": f"BRAND#{rules_brand}#MEMBER#{member}"},
                                                   ":l": {"S": "LOT#"}})["Items"]
    assert lots == []
    # The ledger still says where the points went, and undoing the redemption puts them back on that very lot.
    entry = store.get_entry(rules_brand, member, spent.entry_id)
    assert [a.lot_id for a in entry.allocations] == [lot.lot_id]
    points.reverse(store, rules_brand, member, entry_id=spent.entry_id, reason="till error",
                   now=T + timedelta(minutes=2), idempotency_key="undo")
    state = store.load_member(rules_brand, member)
    assert [(l.lot_id, l.remaining, l.expires_at) for l in state.points.lots] == [
        (lot.lot_id, lot.remaining, lot.expires_at)]
    assert state.points.balance == lot.remaining


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


def test_an_order_paid_after_its_refund_reads_the_order_by_key_once_its_optimistic_write_is_refused(
        engine, store, rules_brand, looker):
    from tests.helpers import register

    member = register(store, rules_brand, T)
    order = order_paid(rules_brand, member, 30000, order_id="late-o1")
    refund = engine.handle({"version": "0", "id": f"r-{uuid.uuid4()}", "detail-type": "order.refunded",
                            "source": "siyu.shop", "time": (T + timedelta(minutes=5)).isoformat(),
                            "detail": {"brandId": rules_brand, "memberId": member, "orderId": "late-o1",
                                       "amountFen": 10000, "refundId": "r1"}})
    assert refund.status == "applied"
    meter = CapacityMeter(db.client(), looker)
    try:
        with meter.measure() as measure:
            summary = engine.handle({"version": "0", "id": f"o-{uuid.uuid4()}", "detail-type": "order.paid",
                                     "source": "siyu.shop", "time": (T + timedelta(minutes=10)).isoformat(),
                                     "detail": order})
    finally:
        meter.close()
    assert summary.status == "applied"
    # Planned as a new order, refused because the refund left the order's item; then that item by key (the
    # member as first read stays the base: the refund moved the version before this event read it).
    assert measure.by_operation == {"Query": 1, "GetItem": 1, "TransactWriteItems": 2}
    # The refund-before-order rule as before: 300 yuan less the 100 refunded earns 200 points.
    assert store.load_member(rules_brand, member).points.balance == 200
