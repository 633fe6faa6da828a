"""A template's stock split over counters: the parts a claim is held to add up to the stock, whatever its size."""

from __future__ import annotations

from plugins.coupons.model import STOCK_SHARDS, Template


def template(stock: int | None) -> Template:
    return Template.of({"id": "t", "name": "券", "kind": "gift", "gift": "durian", "validDays": 3, "stock": stock})


def test_the_parts_of_any_stock_add_up_to_it_and_no_part_is_empty():
    for stock in range(1, 200):
        t = template(stock)
        parts = [t.shard_stock(shard) for shard in range(t.stock_shards)]
        assert sum(parts) == stock and min(parts) >= 1 and t.stock_shards <= STOCK_SHARDS


def test_a_stock_of_one_is_one_counter_and_an_unlimited_template_has_no_parts():
    assert template(1).stock_shards == 1
    unlimited = template(None)
    assert unlimited.stock_shards == STOCK_SHARDS and unlimited.shard_stock(0) is None


def test_a_rules_coupon_always_counts_on_the_same_shard():
    t = template(10)
    assert {t.stock_shard_for("c-42") for _ in range(3)} == {t.stock_shard_for("c-42")}
    assert {t.stock_shard_for(f"c-{n}") for n in range(200)} == set(range(t.stock_shards))
