"""Brand KPIs (DOMAIN.md 8.1): the figures a brand is judged on, per brand-local day, and how a day's stored
counters become the series staff read.

Counters are deltas by metric name; the families' `kpis` modules say which item changes give which deltas
(rules/kpis.py). Rates are worked out when read, from exact integer counts: redemption rates from what was issued
and used that day, repurchase rates from the day's first-time buyers (a cohort: its repurchases are filled in as
they come, up to 90 days later).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping

from rules.kpis import Count

NEW_MEMBERS = "new_members"
ACTIVE_MEMBERS = "active_members"
ORDERS = "orders"
GMV_FEN = "gmv_fen"
REFUNDS = "refunds"
REFUND_FEN = "refund_fen"
POINTS_ISSUED = "points_issued"
POINTS_REDEEMED = "points_redeemed"
POINTS_EXPIRED = "points_expired"
COUPONS_CLAIMED = "coupons_claimed"  # plugins/coupons/kpis.py
COUPONS_USED = "coupons_used"
REFERRAL_CONVERSIONS = "referral_conversions"  # plugins/referral/kpis.py
ALERTS = "alerts"  # plugins/crisis/kpis.py
FIRST_ORDERS = "first_orders"
REPURCHASED_30 = "repurchased_30"
REPURCHASED_90 = "repurchased_90"

REPURCHASE_WINDOWS = {REPURCHASED_30: timedelta(days=30), REPURCHASED_90: timedelta(days=90)}
MAX_DAYS = 366  # one request reads at most a year of days

# Stored metric names of distributions (`Count.of`): "<of>:<value>", e.g. "tiers:GOLD".
_DISTRIBUTION = ":"


def stored_metric(count: Count) -> str:
    return count.metric if count.of is None else f"{count.of}{_DISTRIBUTION}{count.metric}"


def two_earliest(first: datetime | None, second: datetime | None, at: datetime) -> tuple[datetime, datetime | None]:
    """A member's first and second orders once an order at `at` is known, in whatever order orders arrive."""
    known = sorted(t for t in (first, second, at) if t is not None)
    return known[0], (known[1] if len(known) > 1 else None)


def cohort(brand_id: str, first: datetime | None, second: datetime | None, sign: int = 1) -> list[Count]:
    """What a member's first two orders count: a first-time buyer on the first order's day, and a repurchase
    within each window the second order fell in, on that same day (the cohort's day)."""
    if first is None:
        return []
    counts = [Count(brand_id, first, FIRST_ORDERS, sign)]
    for metric, window in REPURCHASE_WINDOWS.items():
        if second is not None and second - first <= window:
            counts.append(Count(brand_id, first, metric, sign))
    return counts


def cohort_change(brand_id: str, before: tuple[datetime | None, datetime | None],
                  after: tuple[datetime | None, datetime | None]) -> list[Count]:
    """The deltas that take the counters from the cohort `before` says to the one `after` says."""
    return cohort(brand_id, *before, sign=-1) + cohort(brand_id, *after)


@dataclass(frozen=True)
class Day:
    day: date
    figures: Mapping[str, int]
    # name -> value -> members (the running total at the end of the day)
    distributions: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    def get(self, metric: str) -> int:
        return int(self.figures.get(metric, 0))


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def series(rows: Iterable[tuple[date, Mapping[str, int]]], start: date, end: date) -> list[Day]:
    """Every day from `start` to `end`, the shards' counters summed; `rows` may reach back before `start`
    (distributions are running totals from the first day)."""
    flows: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for day, counters in rows:
        for metric, delta in counters.items():
            flows[day][metric] += int(delta)
    running: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    out = []
    wanted = set(days_between(start, end))
    for day in sorted(set(flows) | wanted):
        if day > end:
            break
        figures = {}
        for metric, delta in flows.get(day, {}).items():
            if _DISTRIBUTION in metric:
                name, value = metric.split(_DISTRIBUTION, 1)
                running[name][value] += delta
            else:
                figures[metric] = delta
        if day in wanted:
            out.append(Day(day, figures, {name: {v: n for v, n in values.items() if n}
                                          for name, values in running.items()}))
    return out
