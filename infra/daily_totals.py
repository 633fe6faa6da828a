"""The store's half of daily totals (`rules.daily_totals`): one small item per member, total and brand-local month,
in the member's state partition between what the page reads and the per-order markers (`keys.daily_totals_sk`),
so the event's state Query loads them and the member page does not.

Each day is a number attribute named by its day of the month ("15"), which events ADD to: two concurrent events of
the same day both count, whatever either read (their decisions are still conditions of their writes through the
member's version). An item carries the TTL of its month (`DailyDelta.forget_at`); reads skip it from then on, as they
skip markers past theirs.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from pynamodb.attributes import NumberAttribute

from infra import keys
from infra.models import SiyuItem
from rules.daily_totals import DailyDelta

_DAY_NAMES = {day: f"day{day}" for day in range(1, 32)}


class DailyTotalsItem(SiyuItem, discriminator="daytot"):
    """One daily total's days of one month: `day1` ... `day31`, stored as "1" ... "31" (only the days added to)."""

    locals().update({name: NumberAttribute(null=True, attr_name=str(day)) for day, name in _DAY_NAMES.items()})


def days_of(item: DailyTotalsItem) -> tuple[str, dict[date, int]]:
    """(the total's name, {day: amount}) of one month item; days netted to 0 are left out."""
    total, month = item.sk[len(keys.DAILY_TOTALS_PREFIX):].rsplit("#", 1)
    year, number = (int(part) for part in month.split("-"))
    values = item.attribute_values
    return total, {date(year, number, day): int(values[name]) for day, name in _DAY_NAMES.items()
                   if values.get(name)}


def absorb(daily: dict[str, dict[date, int]], item: DailyTotalsItem) -> None:
    """Add one month item read with the member's state to `daily` (name -> {day: amount})."""
    total, days = days_of(item)
    daily.setdefault(total, {}).update(days)


def add(tx: Any, member_pk: str, deltas: Iterable[DailyDelta]) -> None:
    """The event's additions, one ADD per day into its month's item (created by the first), in the event's
    transaction (`infra.transactions.Transaction`)."""
    for d in deltas:
        tx.add(DailyTotalsItem(member_pk, keys.daily_totals_sk(d.total, d.month)), also_set={"ttl": d.forget_at},
               **{_DAY_NAMES[d.day]: d.amount})


def raw_item(member_pk: str, total: str, month: str, days: dict[int, int], forget_at: Any) -> dict[str, Any]:
    """A month item as `add` leaves it, in DynamoDB's wire format (for writing a long history directly: bench/)."""
    item = DailyTotalsItem(member_pk, keys.daily_totals_sk(total, month), ttl=forget_at,
                           **{_DAY_NAMES[day]: amount for day, amount in days.items()})
    return item.serialize()


def raw_days(raw: dict[str, Any]) -> dict[int, int]:
    """The days of a month item in DynamoDB's wire format."""
    return {int(name): int(value["N"]) for name, value in raw.items() if name.isdigit()}
