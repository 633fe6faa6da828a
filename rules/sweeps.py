"""The daily sweep's catch-up plan: from each brand's watermark to the sweep's time, one day at a time.

A run handles every day since the oldest watermark that is behind, each day at the instant a daily sweep would
have run that day (the sweep's own time of day), so one run after an outage leaves every member as the missed
daily runs would have. Each brand's watermark moves to a day once everything due by then was handled for it.

The work fans out (rules/fanout.py): a coordinator lists one day's due work shard by shard (`Engine.due_work`),
hands it to workers as batches through a queue, and moves the watermark only once every batch of that day is done
(a `SweepRun`, counted by the store); each worker applies one member's due work (`Engine.sweep_member`) under ids
derived from the day's time and the member, so a batch delivered twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping, Sequence

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
# Members an in-process run (the local stack, the CLI, tests) applies before it stops at the end of a day and says
# more remains; a queued run (SQS) has no such budget: each finished day's last batch calls the coordinator back.
MEMBERS_PER_RUN = 20_000
# Members per batch handed to one worker: 39 ms each on the bench is about 4 s, far inside a worker's timeout.
BATCH_SIZE = 100
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


@dataclass(frozen=True)
class SweepRun:
    """One day of the daily sweep fanned out: the listing `attempt` that owns it, which brands it covers, how many
    batches it handed out (None while it is still listing) and how many of them are done."""

    until: datetime
    attempt: str
    opened_at: datetime  # the sweep time of the run that listed it (not a clock): an abandoned run is re-listed
    covers: frozenset[str]
    total: int | None = None
    done: int = 0

    @property
    def complete(self) -> bool:
        return self.total is not None and self.done >= self.total


def batches(members: Sequence[tuple[str, str]], size: int = BATCH_SIZE) -> list[list[tuple[str, str]]]:
    return [list(members[start:start + size]) for start in range(0, len(members), size)]


def next_attempt(run: SweepRun | None) -> str:
    """Each listing of a day is a new attempt (a number that only grows), so a batch of an abandoned listing is
    never counted as one of the new listing's."""
    return "1" if run is None else str(int(run.attempt) + 1)
