"""Daily running totals: a sum kept per brand-local calendar day (`rules.effects.AddToDailyTotal`), for rules whose
window ends on a day rather than a month (`tiers`' rolling twelve months: an order of 15 March counts until the
start of 15 March a year on).

A running total on the profile (`AddToTotal`) cannot say "since the 16th": per-day totals can, and kept on the
profile they would make every write of it larger. So they are stored one small item per total and brand-local month
(infra/daily_totals.py), each day an attribute that events *add* to, and loaded with the member's state: a rule
reads the days of the last `keep_months` calendar months and the current one, never the member's orders. A month is
forgotten at the start of the month `keep_months` after it ends, so what an event reads is bounded (at most
`keep_months + 1` items of at most 31 numbers per total) whatever the member's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Mapping

from rules import months

# The longest a daily total may be kept: every kept month is read with the member's state.
MAX_KEEP_MONTHS = 24


@dataclass(frozen=True)
class DailyDelta:
    """What one event adds to one day of a daily total: the store adds `amount` to day `day` of the total's item for
    `month` ("2026-03"), which it may forget from `forget_at`."""

    total: str
    month: str
    day: int
    amount: int
    forget_at: datetime

    @property
    def date(self) -> date:
        year, month = self.month.split("-")
        return date(int(year), int(month), self.day)


def month_label(day: date) -> str:
    return f"{day:%Y-%m}"


def forget_at(day: date, keep_months: int, tz: str) -> datetime:
    """When the month of `day` may be forgotten: the start (brand-local) of the month `keep_months` after it ends."""
    return months.start_of_day(months.add_months(day.replace(day=1), keep_months + 1), tz)


def still_kept(day: date, keep_months: int, now: datetime, tz: str) -> bool:
    """Whether the total of `day` is still kept at `now` (a day already forgotten cannot be added to)."""
    return forget_at(day, keep_months, tz) > now


def delta(total: str, day: date, amount: int, keep_months: int, tz: str) -> DailyDelta:
    return DailyDelta(total, month_label(day), day.day, amount, forget_at(day, keep_months, tz))


def merged(deltas: Iterable[DailyDelta]) -> tuple[DailyDelta, ...]:
    """One delta per total and day (an event may add to a day twice), the latest forget time kept; zeros dropped."""
    by_day: dict[tuple[str, str, int], DailyDelta] = {}
    for d in deltas:
        key = (d.total, d.month, d.day)
        before = by_day.get(key)
        by_day[key] = d if before is None else DailyDelta(d.total, d.month, d.day, before.amount + d.amount,
                                                          max(before.forget_at, d.forget_at))
    return tuple(d for d in by_day.values() if d.amount)


def applied(daily: Mapping[str, Mapping[date, int]], deltas: Iterable[DailyDelta]) -> dict[str, dict[date, int]]:
    """The daily totals after `deltas` (what the member's next event reads)."""
    out = {name: dict(days) for name, days in daily.items()}
    for d in deltas:
        days = out.setdefault(d.total, {})
        days[d.date] = days.get(d.date, 0) + d.amount
    return out

