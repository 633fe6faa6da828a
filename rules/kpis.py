"""What a change to one stored item contributes to its brand's daily figures (the `kpis` half of a family).

A family's `kpis` module maps item types to `contribute(old, new, at)`: `old` and `new` are the item as stored
before and after the change (plain dicts keyed by stored attribute names, None when it did not or no longer
exists), `at` is when the table changed (for items that do not say when themselves). It gives `Count` values, or
`Purchase` values for orders; which brand-local day they fall on, how they are kept and how a redelivered change
is kept from counting twice are the aggregator's business, never the contributor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable, Mapping, Union

# How pynamodb stores a UTCDateTimeAttribute.
_STORED_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


@dataclass(frozen=True)
class Count:
    """`delta` added to `metric` on the brand-local day of `at`.

    `distinct`: counted once per metric, day and key (members active on a day). `of`: a distribution (tiers,
    lifecycle stages): `metric` is one of its values and the deltas are members moving in and out, so a day's
    figure is the running total up to that day."""

    brand_id: str
    at: datetime
    metric: str
    delta: int = 1
    distinct: str | None = None
    of: str | None = None


@dataclass(frozen=True)
class Purchase:
    """A member's paid order at `at`: what first orders and repurchases (a second order within 30 or 90 days of the
    first) are counted from, whatever order the changes arrive in."""

    brand_id: str
    member_id: str
    at: datetime


Contribution = Union[Count, Purchase]
Contribute = Callable[[Mapping[str, Any] | None, Mapping[str, Any] | None, datetime], Iterable[Contribution]]


def stored_time(value: Any) -> datetime | None:
    """A stored UTCDateTimeAttribute back as an aware datetime (None for a missing value)."""
    if not value:
        return None
    return datetime.strptime(str(value), _STORED_TIME)


def brand_of(image: Mapping[str, Any]) -> str | None:
    """The brand of an item keyed `BRAND#<brand>#...` (every member-, ledger- and brand-partition item)."""
    parts = str(image.get("pk", "")).split("#")
    return parts[1] if len(parts) > 1 and parts[0] == "BRAND" else None


def number(value: Any) -> int:
    return int(value or 0)
