"""What the core's items contribute: members registering, orders and refunds (their processed records), and the
points ledger's entries. The families' own items are theirs to declare (their `kpis.py`)."""

from __future__ import annotations

from plugins.insights.model import (ACTIVE_MEMBERS, GMV_FEN, NEW_MEMBERS, ORDERS, POINTS_EXPIRED, POINTS_ISSUED,
                                    POINTS_REDEEMED, REFUND_FEN, REFUNDS)
from rules.kpis import Count, Purchase, brand_of, number, stored_time

# Points that reach a member's balance, points they spend, points that lapse (rules/ledger.py's entry kinds).
_ISSUED = {"earn": POINTS_ISSUED, "repay": POINTS_ISSUED, "redeem": POINTS_REDEEMED, "expire": POINTS_EXPIRED}


def member(old, new, _at):
    if old is None and new is not None:
        yield Count(new["brand_id"], stored_time(new["registered_at"]), NEW_MEMBERS)


def processed(old, new, _at):
    """An event applied once is one processed record, inserted once: an order or a refund counts then."""
    if old is not None or new is None or not new.get("subject_id"):
        return
    brand, at, who = new["brand_id"], stored_time(new["at"]), new["subject_id"]
    if new.get("detail_type") == "order.paid":
        yield Count(brand, at, ORDERS)
        yield Count(brand, at, GMV_FEN, number(new.get("amount_fen")))
        yield Count(brand, at, ACTIVE_MEMBERS, distinct=who)
        yield Purchase(brand, who, at)
    elif new.get("detail_type") == "order.refunded":
        yield Count(brand, at, REFUNDS)
        yield Count(brand, at, REFUND_FEN, number(new.get("amount_fen")))


def entry(old, new, _at):
    metric = _ISSUED.get(new.get("entry_kind")) if old is None and new is not None else None
    if metric is not None and brand_of(new):
        yield Count(brand_of(new), stored_time(new["at"]), metric, abs(number(new.get("points"))))


CONTRIBUTIONS = {"member": member, "processed": processed, "entry": entry}
