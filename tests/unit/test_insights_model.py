"""The brand KPIs' pure parts: cohorts of first orders and their repurchases, and a day's series from counters."""

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from itertools import permutations

from plugins.insights import model
from rules.kpis import Count

T0 = datetime(2026, 3, 1, 4, 0, tzinfo=timezone.utc)


def counted(orders) -> Counter:
    """The cohort counters after the orders arrive one by one, by (metric, day)."""
    totals: Counter = Counter()
    first = second = None
    for at in orders:
        after = model.two_earliest(first, second, at)
        for c in model.cohort_change("b", (first, second), after):
            totals[(c.metric, c.at.date())] += c.delta
        first, second = after
    return Counter({k: v for k, v in totals.items() if v})


def test_a_second_order_20_days_after_the_first_is_a_repurchase_within_30_and_90_days_on_the_first_orders_day():
    assert counted([T0, T0 + timedelta(days=20)]) == {
        (model.FIRST_ORDERS, T0.date()): 1, (model.REPURCHASED_30, T0.date()): 1, (model.REPURCHASED_90, T0.date()): 1}


def test_a_second_order_after_60_days_counts_within_90_days_only_and_a_third_order_changes_nothing():
    assert counted([T0, T0 + timedelta(days=60), T0 + timedelta(days=61)]) == {
        (model.FIRST_ORDERS, T0.date()): 1, (model.REPURCHASED_90, T0.date()): 1}


def test_orders_arriving_in_any_order_count_as_if_they_had_arrived_in_time_order():
    orders = [T0 + timedelta(days=40), T0, T0 + timedelta(days=100), T0 + timedelta(days=25)]
    expected = counted(sorted(orders))
    assert expected == {(model.FIRST_ORDERS, T0.date()): 1, (model.REPURCHASED_30, T0.date()): 1,
                        (model.REPURCHASED_90, T0.date()): 1}
    for arrival in permutations(orders):
        assert counted(arrival) == expected


def test_a_distribution_is_a_running_total_from_the_first_day_and_flows_are_per_day():
    rows = [(date(2026, 3, 1), {"tiers:PU": 3, "orders": 2}), (date(2026, 3, 2), {"tiers:PU": -1, "tiers:YIN": 1}),
            (date(2026, 3, 2), {"orders": 5})]
    days = model.series(rows, date(2026, 3, 2), date(2026, 3, 3))
    assert [d.day for d in days] == [date(2026, 3, 2), date(2026, 3, 3)]
    assert days[0].get("orders") == 5 and days[1].get("orders") == 0
    assert days[0].distributions == days[1].distributions == {"tiers": {"PU": 2, "YIN": 1}}
    assert model.stored_metric(Count("b", T0, "GOLD", of="tiers")) == "tiers:GOLD"
