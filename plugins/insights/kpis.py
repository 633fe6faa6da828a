"""What the core's items contribute: members registering, orders and refunds (their processed records), and the
points ledger's entries. The families' own items are theirs to declare (their `kpis.py`)."""

from __future__ import annotations

from datetime import datetime, timezone

from plugins.insights.model import (ACTIVE_MEMBERS, GMV_FEN, NEW_MEMBERS, ORDERS, POINTS_EXPIRED, POINTS_ISSUED,
                                    POINTS_REDEEMED, REFUND_FEN, REFUNDS)
from rules import entry_codec
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


def history(old, new, _at):
    """An event's history item (its order's item or an activity item) holds its ledger entries (packed,
    rules/entry_codec.py): they count when they first appear on it (an order's item written before its order,
    by a refund, holds none until the order comes)."""
    if new is None or not new.get("en") or (old is not None and old.get("en")) or not brand_of(new):
        return
    if new.get("at"):
        at = stored_time(new["at"])
    else:
        at = datetime.strptime(str(new.get("t", "")).split("#", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(
            tzinfo=timezone.utc)
    for row in entry_codec.unpack(bytes(getattr(new["en"], "value", new["en"]))):
        metric = _ISSUED.get(row.get("k"))
        if metric is not None:
            when = datetime.strptime(row["t"], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc) if "t" in row else at
            yield Count(brand_of(new), when, metric, abs(number(row.get("p"))))


CONTRIBUTIONS = {"member": member, "processed": processed, "entry": entry, "order": history, "activity": history}
