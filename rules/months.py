"""Calendar months in a brand's time zone.

Wherever a rule says months (a tier's validity, a rolling 12-month window, "three months in a row", a KOL's
monthly sales) it means the brand's calendar, not 30-day blocks: a tier reached on 1 February (brand-local) is
held through 31 July and judged at the start of 1 August. A month added to a day that the target month lacks lands
on that month's last day (31 August + 6 months = 28 February, or 29 in a leap year). Rules that say days keep days.

A moment becomes a brand-local day first, the arithmetic is done on days, and the answer is the start (00:00
brand-local) of the resulting day, as an aware UTC time.
"""

from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months (negative: back), clamped to the target month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def local_day(at: datetime, tz: str) -> date:
    """The brand-local calendar day of `at`."""
    if at.tzinfo is timezone.utc and type(at) is datetime and type(tz) is str:
        return _utc_local_day(at, tz)
    return at.astimezone(ZoneInfo(tz)).date()


@functools.lru_cache(maxsize=256)
def _utc_local_day(at: datetime, tz: str) -> date:
    """`local_day` of a UTC time, remembered: an order's plugins ask for the day of the event's time (and of the
    member's joining) several times each (issue 15, engine CPU). Only plain UTC datetimes are remembered: equal
    ones are the same instant (no fold, no other zone), so equal keys have one answer; a zone name that does not
    exist raises every time (an exception is not cached). tests/unit/test_local_day_cache.py compares the two."""
    return at.astimezone(ZoneInfo(tz)).date()


def start_of_day(day: date, tz: str) -> datetime:
    """00:00 brand-local on `day`, in UTC. (No time zone Siyu serves skips midnight; where one did, the first
    instant of the day that exists is what `zoneinfo` gives.)"""
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def months_after(at: datetime, months: int, tz: str) -> datetime:
    """The start of the brand-local day `months` calendar months after the day of `at`: when something that
    began at `at` and lasts `months` months is over. Reached 2026-02-01 + 6 -> 2026-08-01 00:00 brand-local."""
    return start_of_day(add_months(local_day(at, tz), months), tz)


def month_label(at: datetime, tz: str) -> str:
    """The brand-local calendar month of `at`, e.g. "2026-03"."""
    return f"{local_day(at, tz):%Y-%m}"


def month_labels_back(at: datetime, count: int, tz: str) -> list[str]:
    """The brand-local month of `at` and the `count - 1` before it, newest first: ["2026-03", "2026-02", ...]."""
    first = local_day(at, tz).replace(day=1)
    return [f"{add_months(first, -n):%Y-%m}" for n in range(count)]


def longest_days(months: int) -> int:
    """An upper bound, in days, on how long `months` calendar months (and a time-zone day) can last: how long a
    record must be kept for a months-long rule to still see it."""
    return months * 31 + 2
