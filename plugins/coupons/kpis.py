"""Coupons claimed or given (a coupon item appears) and used on an order (its status turns to used)."""

from __future__ import annotations

from rules.kpis import Count, brand_of, stored_time

CLAIMED = "coupons_claimed"
USED = "coupons_used"


def coupon(old, new, _at):
    if new is None or not brand_of(new):
        return
    if old is None:
        yield Count(brand_of(new), stored_time(new["issued_at"]), CLAIMED)
    if new.get("status") == "used" and (old is None or old.get("status") != "used"):
        yield Count(brand_of(new), stored_time(new.get("used_at")) or stored_time(new["issued_at"]), USED)


CONTRIBUTIONS = {"coupon": coupon}
