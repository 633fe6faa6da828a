"""Refund arithmetic shared by the plugins that give something per order (points, growth).

An order earns `full` for `amount_fen`. Refunds, partial or full, in any order and even before the order itself
arrives, take back `full * refunded_fen // amount_fen` in total: computed on the running total, so three partial
refunds take back exactly what one refund of the same sum would, never a point more or less.
"""

from __future__ import annotations

from typing import Any, Mapping


def owed_after(full: int, amount_fen: int, refunded_fen: int) -> int:
    """What refunds of `refunded_fen` in total take back from an order that earned `full` for `amount_fen`."""
    if amount_fen <= 0:
        return full if refunded_fen > 0 else 0
    return full * min(refunded_fen, amount_fen) // amount_fen


def refunded_so_far(refunds: Mapping[str, Mapping[str, Any]]) -> tuple[int, int]:
    """(fen refunded, amount already taken back) over the refund markers of one order."""
    return sum(r.get("fen", 0) for r in refunds.values()), sum(r.get("taken", 0) for r in refunds.values())
