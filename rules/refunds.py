"""Refund arithmetic shared by the plugins that give something per order (points, growth).

An order earns `full` for `amount_fen`. Refunds, partial or full, in any order and even before the order itself
arrives, take back `full * refunded_fen // amount_fen` in total: computed on the running total, so three partial
refunds take back exactly what one refund of the same sum would, never a point more or less.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping


def owed_after(full: int, amount_fen: int, refunded_fen: int) -> int:
    """What refunds of `refunded_fen` in total take back from an order that earned `full` for `amount_fen`."""
    if amount_fen <= 0:
        return full if refunded_fen > 0 else 0
    return full * min(refunded_fen, amount_fen) // amount_fen


def refunded_so_far(refunds: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """(fen refunded, amount already taken back) over the refund markers of one order."""
    if not refunds:  # most orders: no refund, and sums over nothing are 0 (without two generators)
        return 0, 0
    return sum(r.get("fen", 0) for r in refunds.values()), sum(r.get("taken", 0) for r in refunds.values())


@dataclass(frozen=True)
class RefundStep:
    """One `order.refunded` as a plugin that gives `field` per order sees it."""

    key: str  # the marker this refund claims, so a resend changes nothing
    fen: int
    order_id: str
    order: Mapping[str, Any] | None  # None: the refund overtook its order
    take: int  # what this refund takes back (0 while the order is unknown)
    refunded_fen: int  # the order's refunds so far, this one included


def refund_step(plugin: str, field: str, event: Any, member: Any) -> RefundStep | None:
    """What this refund takes back of `field`, on the running total of the order's refunds; None if already seen."""
    order_id = event.get("orderId")
    key = f"{plugin}:refund:{order_id}#{event.get('refundId') or event.event_id}"
    if member.has(key):
        return None
    fen = event.get("amountFen")
    order = member.marker(f"{plugin}:order:{order_id}")
    refunded_fen, taken = refunded_so_far(member.markers_under(f"{plugin}:refund:{order_id}#"))
    if order is None:
        return RefundStep(key, fen, order_id, None, 0, refunded_fen + fen)
    owed = owed_after(order[field], order["amountFen"], refunded_fen + fen)
    return RefundStep(key, fen, order_id, order, max(0, owed - taken - order.get("taken", 0)), refunded_fen + fen)


def refunded_before_order(plugin: str, member: Any, order_id: str) -> int:
    """Fen refunded on an order before the order itself arrived."""
    return refunded_so_far(member.markers_under(f"{plugin}:refund:{order_id}#"))[0]


def exact(rate) -> Fraction:
    """A rate from JSON (1, 1.15, 0.7) as the exact decimal the brand wrote."""
    kind = type(rate)
    if kind is int or kind is float:
        # A brand's few rates, asked for on every order: a Fraction is immutable, so the same one serves each time.
        # Keyed by type and value, so 1 and 1.0 (equal, with the same hash) stay apart as str() keeps them.
        key = (kind, rate)
        found = _EXACT.get(key)
        if found is None:
            found = Fraction(str(rate))
            if len(_EXACT) < 1024:
                _EXACT[key] = found
        return found
    return Fraction(str(rate))


_EXACT: dict[tuple[type, float], Fraction] = {}


def scaled_down(amount: int, *rates: Fraction, per: int = 100) -> int:
    """`int(amount * rate * ... // per)`, as Fraction arithmetic gives it. Most brands' rates are whole (1 point per
    yuan, 2x for paid members), and then the same answer comes from whole numbers alone: a Fraction with
    denominator 1 multiplies as its numerator does (int or float `amount` alike), and floor division of that by
    `per` is what the Fraction's floor division gives (tests/unit/test_engine_fast_paths.py compares the two)."""
    value: Any = amount
    for rate in rates:  # `all(rate.denominator == 1 ...)`, without a generator: once or twice per order
        if rate.denominator != 1:
            for rate in rates:
                value = value * rate
            return int(value // per)
    for rate in rates:
        value = value * rate.numerator
    return int(value // per)
