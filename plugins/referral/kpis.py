"""A referral converts when an invitee is bound to their inviter (one `referred` item, written once)."""

from __future__ import annotations

from rules.kpis import Count, brand_of, stored_time

CONVERSIONS = "referral_conversions"


def referred(old, new, _at):
    if old is None and new is not None and brand_of(new):
        yield Count(brand_of(new), stored_time(new["bound_at"]), CONVERSIONS)


CONTRIBUTIONS = {"referred": referred}
