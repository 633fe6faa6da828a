"""The daily sweep's catch-up plan: from each brand's watermark to the sweep's time, one day at a time.

A run handles every day since the oldest watermark that is behind, each day at the instant a daily sweep would
have run that day (the sweep's own time of day), so one run after an outage leaves every member as the missed
daily runs would have. Each brand's watermark moves to a day once everything due by then was handled for it.

Kept apart from the engine so the work can later be fanned out by shard: listing due work (`Engine.due_work`) and
applying one member's due work (`Engine.sweep_member`) are separate steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from rules.ids import time_key

DAILY = "daily"
DAY = timedelta(days=1)
# A brand gets its watermark when it is configured (rules/brand_settings.py), so its first sweep reaches back to
# then. One without any (set up before that, or put straight into the store) is swept from where the most behind
# brand stands (a day back when none is behind), and on a table's very first sweep from this far back.
FIRST_SWEEP_LOOKBACK = timedelta(days=3)
# Where the due index lists an entry that fell due before its brand's watermark (it arrived late): just after it,
# so the next sweep's first day, (watermark, ...], lists it (Engine._due_floor).
AFTER_WATERMARK = timedelta(microseconds=1)
# Members one run applies before it stops and says more remains (the next run carries on from the watermark).
MEMBERS_PER_RUN = 20_000
# Due items read per Query page: a day's listing is read in chunks of this size, never all at once.
PAGE_SIZE = 500
# A member whose expired lots need more postings than this in one day is left for the next run.
MAX_PARTS = 1_000


@dataclass(frozen=True)
class Step:
    since: datetime  # exclusive
    until: datetime  # inclusive: the instant the day's sweep runs at (its "now")


def plan(watermarks: Mapping[str, datetime], now: datetime) -> list[Step]:
    """The days to sweep, oldest first, the last one at `now`."""
    behind = [mark for mark in watermarks.values() if mark < now]
    start = min(behind) if behind else now - (DAY if watermarks else FIRST_SWEEP_LOOKBACK)
    days = -(-(now - start) // DAY)  # whole days, rounded up
    instants = [now - DAY * k for k in range(days - 1, -1, -1)]
    return [Step(since, until) for since, until in zip([start, *instants[:-1]], instants)]


def target_id(sweep: str, at: datetime, member_id: str, part: int = 1) -> str:
    """One member's work on one sweep day: the same id whichever run (or redelivery) gets to it."""
    base = f"{sweep}:{time_key(at)}:{member_id}"
    return base if part == 1 else f"{base}#{part}"
