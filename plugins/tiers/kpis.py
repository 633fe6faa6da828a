"""The tier distribution: a member counts in their tier from registering, and moves when their tier changes
(dated when the table changed: the member item does not say when)."""

from __future__ import annotations

from rules.kpis import Count, stored_time

TIERS = "tiers"


def member(old, new, at):
    before = old.get("tier_code") if old else None
    after = new.get("tier_code") if new else None
    if before == after:
        return
    brand = (new or old)["brand_id"]
    when = stored_time(new["registered_at"]) if old is None else at
    if before is not None:
        yield Count(brand, when, before, -1, of=TIERS)
    if after is not None:
        yield Count(brand, when, after, 1, of=TIERS)


CONTRIBUTIONS = {"member": member}
