"""What `order.paid` reads under the `rolling12` tier policy (issue 15), in read units computed from the real item
sizes (bench/capacity.py, as tests/integration/test_capacity_units.py): the window is summed from daily totals, one
small item per brand-local month, so a member with 3,000 past orders over the last year reads about as much as one
with 10, and with the same requests as a brand on the default policy. Units and request counts are asserted; times
never are."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from bench.capacity import CapacityMeter
from infra import db
from infra.settings import settings
from rules import months
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.conftest import BUILT_INS
from tests.helpers import order_paid, register

# Early today in Shanghai: the veteran's oldest counted day leaves the window at the next brand-local midnight, after
# the receiving clock, so the event needs no look at the sweep's watermark (`Engine._due_floor`, for what falls due
# before it is received), as on the default policy.
T = months.start_of_day(months.local_day(datetime.now(timezone.utc), "Asia/Shanghai"), "Asia/Shanghai") + timedelta(
    minutes=1)
GROWTH = 129  # 129 yuan an order, one growth per yuan


@pytest.fixture
def looker(dynamodb_endpoint):
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)


@pytest.fixture
def rolling_brand(store, plugins) -> str:
    """The built-ins at their presets, `tiers` grading on the rolling 12 months."""
    brand = f"r12{uuid.uuid4().hex[:10]}"
    enabled = {name: plugins.validate_params(name, {}) for name in BUILT_INS}
    enabled["tiers"] = plugins.validate_params("tiers", {"policy": "rolling12"})
    store.put_brand(BrandConfig(brand, "滚动十二月", BAIGUOYUAN_LADDER, plugins=enabled))
    return brand


def test_order_paid_under_rolling12_reads_about_as_much_at_3000_past_orders_over_a_year_as_at_10(
        engine, store, rolling_brand, looker):
    from bench.history import clone_orders

    def paid(member, order_id, at):
        return engine.handle({"version": "0", "id": f"o-{uuid.uuid4()}", "detail-type": "order.paid",
                              "source": "siyu.shop", "time": at.isoformat(),
                              "detail": {**order_paid(rolling_brand, member, GROWTH * 100), "orderId": order_id}})

    newcomer, veteran = register(store, rolling_brand, T - timedelta(days=400)), register(
        store, rolling_brand, T - timedelta(days=400))
    for member in (newcomer, veteran):
        for k in range(10):
            assert paid(member, f"{member}-{k}", T + timedelta(minutes=k)).status == "applied"
    # 2,990 more for the veteran, three hours apart: every brand-local day of the last 374 (13 months of daily
    # totals, each month item full: the most a member can make an event read), written as the engine leaves them.
    clones = [f"{veteran}-{k}" for k in range(10, 3000)]
    clone_orders(db.client(), settings().table_name, rolling_brand, veteran, template_order=f"{veteran}-9",
                 order_ids=clones, before=T, spacing=timedelta(hours=3))
    meter = CapacityMeter(db.client(), looker)
    try:
        measures = {}
        for member in (newcomer, veteran):
            with meter.measure() as measures[member]:
                assert paid(member, f"{member}-new", T + timedelta(hours=1)).status == "applied"
    finally:
        meter.close()
    few, many = measures[newcomer], measures[veteran]
    # The same requests as on the default policy (the state Query, one transaction: a new order reads none of its
    # markers): the daily totals come with the state, and no whole-partition load any more.
    assert many.by_operation == few.by_operation == {"Query": 1, "TransactWriteItems": 1}
    assert many.bytes_read["}DAY"] > 12 * 31 * 5  # thirteen months of days were read ...
    assert many.read_units <= 1.5 * few.read_units  # ... and still within issue 15's bound
    assert "O" not in many.bytes_read  # no order's item (the other orders' markers) was read
    # The grading is the window's: every order of a brand-local day that has not yet reached its day a year on.
    today = months.local_day(T + timedelta(hours=1), "Asia/Shanghai")
    counted = 11 + sum(months.add_months(months.local_day(T - timedelta(hours=3) * (len(clones) - k), "Asia/Shanghai"),
                                         12) > today for k in range(len(clones)))
    assert counted < len(clones) + 11  # some of the oldest copies have left the window
    profile = store.load_member(rolling_brand, veteran).profile
    assert (profile.growth, profile.tier_code) == (GROWTH * counted, "ZUAN")
    assert store.load_member(rolling_brand, newcomer).profile.growth == GROWTH * 11
