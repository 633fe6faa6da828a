"""Running an import: rows from a file (or the console's upload) through `rules.importing`, one transaction per
member (infra/import_store.py), at a bounded rate, with progress and a report of every rejected row.

Resuming after a crash needs no checkpoint: a member lands whole or not at all and is keyed by brand + external
id, so a rerun skips what landed and writes the rest. The rate limit is the operator's (a setting): it reads the
process clock, which is infrastructure; the import's "now" (what expiries are checked against) is given by the
caller and never read here.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable, Iterable, Mapping, Any

from infra import import_store
from infra.import_store import Outcome
from rules import importing
from rules.brands import BrandConfig
from rules.importing import PlannedMember, RejectedRow, Source
from rules.members import LookupKind

_REFERRAL_ATTEMPTS = 5


class RateLimit:
    """At most `per_second` members a second (0: unlimited), evenly spaced rather than in bursts."""

    def __init__(self, per_second: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self._clock = clock
        self._sleep = sleep
        self._next = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self._clock()
        if self._next is not None and now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


@dataclass
class ImportReport:
    source: str
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    points: int = 0  # opening points written by this run
    rejected: list[RejectedRow] = field(default_factory=list)
    next_row: int | None = None  # where a batch stopped (the console imports in batches)

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rows": self.rows, "imported": self.imported, "skipped": self.skipped,
                "points": self.points, "rejected": [rejected_dict(r) for r in self.rejected],
                "nextRow": self.next_row}


def rejected_dict(rejected: RejectedRow) -> dict[str, Any]:
    return {"row": rejected.row, "externalId": rejected.external_id,
            "problems": [p.as_dict() for p in rejected.problems]}


def run(store, brand: BrandConfig, rows: Iterable[tuple[int, Mapping[str, Any] | None]], *, source: str,
        now: datetime, phone_key: str, rate: RateLimit | None = None,
        progress: Callable[[ImportReport], None] | None = None, start_row: int = 1,
        max_rows: int | None = None) -> ImportReport:
    plan_source = Source(source, brand, now, phone_key)
    report = ImportReport(source)
    for number, fields in rows:
        if number < start_row:
            continue
        if max_rows is not None and report.rows >= max_rows:
            report.next_row = number
            break
        report.rows += 1
        planned = importing.plan_row(plan_source, number, fields)
        if isinstance(planned, RejectedRow):
            report.rejected.append(planned)
        elif import_store.imported_member(brand.brand_id, planned.external_id) is not None:
            # Landed before (a rerun, a resume): one read, where a refused transaction would cost writes.
            report.skipped += 1
        else:
            if rate is not None:
                rate.wait()
            outcome = _write(store, planned)
            if outcome is Outcome.IMPORTED:
                report.imported += 1
                report.points += planned.points
            elif outcome is Outcome.SKIPPED:
                report.skipped += 1
            else:
                report.rejected.append(importing.phone_taken(planned))
        if progress is not None:
            progress(report)
    return report


def _write(store, planned: PlannedMember) -> Outcome:
    for attempt in range(_REFERRAL_ATTEMPTS):
        outcome = import_store.write_member(store, planned)
        if outcome is not Outcome.CODE_TAKEN:
            return outcome
        planned = importing.with_new_referral_code(planned, attempt + 1)
    raise RuntimeError("could not find an unused referral code")


def preview(store, brand: BrandConfig, rows: Iterable[tuple[int, Mapping[str, Any] | None]], *, source: str,
            now: datetime, phone_key: str, first: int = 20) -> tuple[int, list[dict[str, Any]]]:
    """The first rows as they would import, with every problem per row (reads only); and the file's row count."""
    plan_source = Source(source, brand, now, phone_key)
    shown: list[dict[str, Any]] = []
    total = 0
    for number, fields in rows:
        total += 1
        if len(shown) >= first:
            continue
        planned = importing.plan_row(plan_source, number, fields)
        if isinstance(planned, RejectedRow):
            shown.append(rejected_dict(planned) | {"status": "rejected", "phoneMasked": None, "points": 0,
                                                   "tier": None})
            continue
        profile = planned.registration.profile
        status, problems = "ready", []
        if import_store.imported_member(brand.brand_id, planned.external_id) is not None:
            status = "skipped"
        elif store.find_member_id(brand.brand_id, LookupKind.PHONE, importing.phone_lookup(planned)) is not None:
            status = "rejected"
            problems = [p.as_dict() for p in importing.phone_taken(planned).problems]
        shown.append({"row": number, "externalId": planned.external_id, "status": status, "problems": problems,
                      "phoneMasked": profile.phone_masked, "points": planned.points, "tier": profile.tier_code})
    return total, shown
