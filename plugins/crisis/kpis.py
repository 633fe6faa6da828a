"""Alerts raised, counted the day they open (an alert item is written once, then updated in place)."""

from __future__ import annotations

from rules.kpis import Count, stored_time

ALERTS = "alerts"


def alert(old, new, _at):
    if old is None and new is not None:
        yield Count(new["brand_id"], stored_time(new.get("raised_at") or new["opened_at"]), ALERTS)


CONTRIBUTIONS = {"alert": alert}
