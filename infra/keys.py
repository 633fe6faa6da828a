"""Key layout of the single table (see ARCHITECTURE.md, "Data model").

A member's *state* (profile, lots that may hold points, request records) shares one partition so that one Query
loads it; the member's *history* (ledger entries) has its own partition, so the member page stays one small read
however long the history grows.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

from rules.ids import time_key
from rules.members import LookupKind

DUE_SHARDS = 4
PROFILE = "PROFILE"
CONFIG = "CONFIG"
LOOKUP = "LOOKUP"
LOT_PREFIX = "LOT#"
# Request records sort after everything the member page reads (`PAGE_END`); `REQ#` is where earlier versions
# wrote them, still read for a request key.
REQUEST_PREFIX = "~REQ#"
LEGACY_REQUEST_PREFIX = "REQ#"
ENTRY_PREFIX = "ENTRY#"
REVERSAL_PREFIX = "REVERSAL#"
MARKER_PREFIX = "MARK#"
# Markers about one order, one reference or one day (`points:order:o1`, `tiers:refund:o1#r2`, `coupons:late:o1`,
# `points:engaged:share:x`, `points:checkin:2026-03-01`): more of them with every order or visit, so they sort after
# everything the member page reads (`PAGE_END`), which then never pays for them.
PER_ORDER_MARKER_PREFIX = "~MARK#"
PER_ORDER_MARKER_KINDS = ("order", "refund", "settled", "late", "engaged", "checkin")
# Those about one order (its award, its refunds, its settlement) are keyed by the order (`~MARK#O#<order>#...`), so
# an event about an order reads that order's markers with one Query whatever the member's history; those about
# visits (check-ins, engagement; short-lived) share `~MARK#V#`. `~MARK#<time>...` and `~MARK#<key>` are the
# earlier layout, read only by a member's whole load (sweeps).
ORDER_MARKER_KINDS = ("order", "refund", "settled", "late")
ORDER_MARKS = "~MARK#O#"
VISIT_MARKS = "~MARK#V#"
# The member page reads its partition below this sort key: profile, lots, consents, every family's holdings and the
# markers it shows; daily totals (}DAY#), request records (~REQ#) and per-order markers (~MARK#) sort after it.
PAGE_END = "}"
# An event's member load reads below this one: what the page reads and the member's daily totals (one item per
# total and brand-local month, `rules.daily_totals`), which the rules need and the page never shows.
STATE_END = "~"
DAILY_TOTALS_PREFIX = "}DAY#"
ACTIVITY_PREFIX = "ACTIVITY#"
CONSENT_PREFIX = "CONSENT#"
PROCESSED = "PROCESSED"
COUPON_PREFIX = "COUPON#"
COUPON_COUNT_PREFIX = "COUPONCOUNT#"
COUPON_STOCK_PREFIX = "COUPONSTOCK#"
COUPON_PAUSE_PREFIX = "COUPONPAUSE#"
ATTEMPT_PREFIX = "ATTEMPT#"


def brand_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}"


def member_pk(brand_id: str, member_id: str) -> str:
    return f"BRAND#{brand_id}#MEMBER#{member_id}"


def ledger_pk(brand_id: str, member_id: str) -> str:
    return f"BRAND#{brand_id}#MEMBER#{member_id}#LEDGER"


def attempts_pk(brand_id: str, member_id: str) -> str:
    """Abuse-limit counters: a partition of their own, so the member page never reads them."""
    return f"BRAND#{brand_id}#MEMBER#{member_id}#ATTEMPTS"


def attempt_sk(action: str, window_start: datetime) -> str:
    return f"{ATTEMPT_PREFIX}{action}#{time_key(window_start)}"


def lot_sk(expires_at: datetime, lot_id: str) -> str:
    return f"{LOT_PREFIX}{time_key(expires_at)}#{lot_id}"


def request_sk(key: str) -> str:
    return f"{REQUEST_PREFIX}{key}"


def legacy_request_sk(key: str) -> str:
    return f"{LEGACY_REQUEST_PREFIX}{key}"


def entry_sk(entry_id: str) -> str:
    return f"{ENTRY_PREFIX}{entry_id}"


def reversal_sk(entry_id: str) -> str:
    return f"{REVERSAL_PREFIX}{entry_id}"


def activity_sk(at: datetime, event_id: str) -> str:
    return f"{ACTIVITY_PREFIX}{time_key(at)}#{event_id}"


def is_per_order_marker(key: str) -> bool:
    parts = key.split(":", 2)
    return len(parts) == 3 and parts[1] in PER_ORDER_MARKER_KINDS


def order_ref(order_id: object) -> str:
    """What an order's markers are filed under: its id up to the first `#` or `:` (a refund's key follows the
    order id with one of them), so the markers of an event about the order are all under one prefix. Ids that
    share it share the prefix: a read of one order then reads a few more, never fewer."""
    # The text up to the first `#` or `:` (`re.split(r"[#:]", text, maxsplit=1)[0]`), without a regular expression:
    # every marker of every event comes here.
    return str(order_id).partition("#")[0].partition(":")[0]


def marker_order(key: str) -> str | None:
    """The order a per-order marker is about (`order_ref`), or None for every other marker."""
    parts = key.split(":", 2)
    return order_ref(parts[2]) if len(parts) == 3 and parts[1] in ORDER_MARKER_KINDS else None


def order_marks_prefix(order_id: object) -> str:
    return f"{ORDER_MARKS}{order_ref(order_id)}#"


def marker_sk(key: str) -> str:
    order = marker_order(key)
    if order is not None:
        return f"{ORDER_MARKS}{order}#~{key}"
    return f"{VISIT_MARKS}~{key}" if is_per_order_marker(key) else f"{MARKER_PREFIX}{key}"


def daily_totals_sk(total: str, month: str) -> str:
    """One daily total's days of one brand-local month ("2026-03"), between the page and the per-order markers."""
    return f"{DAILY_TOTALS_PREFIX}{total}#{month}"


def marker_group_sk(at: datetime, event_id: str, order: str | None = None) -> str:
    """One event's per-order markers about one order (`order`), or about visits (None), together
    (infra.models.MarkerGroupItem); after `PAGE_END` like each."""
    head = f"{ORDER_MARKS}{order}#" if order is not None else VISIT_MARKS
    return f"{head}{time_key(at)}#{event_id}"


# One item per order in the member's history partition (infra.models.OrderItem): its markers and the history of
# the event that opened it. Named by the order, so an event about the order reads (or, opening it, puts) it by key.
ORDER_PREFIX = "O#"


def order_sk(order: str) -> str:
    """The order item of an order (`order_ref`)."""
    return f"{ORDER_PREFIX}{order}"


def time_sk(at: datetime, ref: str) -> str:
    """Where a history item sorts in the member's history (the `byTime` index, infra/table.py)."""
    return f"{time_key(at)}#{ref}"


def due_marker_order(sk: str) -> str | None:
    """The order a marker item the sweep must come back for is about (`~MARK#O#<order>#~<key>`), else None."""
    if not sk.startswith(ORDER_MARKS):
        return None
    order, _, rest = sk[len(ORDER_MARKS):].partition("#")
    return order if rest.startswith("~") else None


def consent_sk(at: datetime, record_id: str) -> str:
    """In the member's partition (loaded with the profile), in time order: the history of consents."""
    return f"{CONSENT_PREFIX}{time_key(at)}#{record_id}"


def audit_pk(brand_id: str) -> str:
    """The brand's audit log of staff mutations: append-only, read newest first."""
    return f"BRAND#{brand_id}#AUDIT"


def audit_sk(at: datetime, audit_id: str) -> str:
    return f"{time_key(at)}#{audit_id}"


def event_pk(brand_id: str, event_id: str) -> str:
    """Processed records are the brand's: another brand's event with the same id is another event."""
    return f"EVENT#{brand_id}#{event_id}"


def problems_pk(brand_id: str | None) -> str:
    """Rejected and failed events, by brand; those naming no known brand share one partition for operators."""
    return f"BRAND#{brand_id}#PROBLEMS" if brand_id else "PROBLEMS#unknown-brand"


def problem_sk(received_at: datetime, event_id: str) -> str:
    return f"{time_key(received_at)}#{event_id}"


def problem_guard_pk(brand_id: str | None) -> str:
    """Which problems are already kept (one per event id and content), so a redelivery is not kept twice."""
    return f"BRAND#{brand_id}#PROBLEMKEYS" if brand_id else "PROBLEMKEYS#unknown-brand"


def problem_guard_sk(event_id: str, fingerprint: str) -> str:
    return f"{event_id}#{fingerprint}"


def sweep_marks_pk(sweep: str) -> str:
    """Every brand's watermark of one sweep, in one partition: one Query reads them all."""
    return f"SWEEPMARKS#{sweep}"


_LOOKUP_NAMES = {
    LookupKind.PHONE: "PHONE",
    LookupKind.OPENID: "OPENID",
    LookupKind.UNIONID: "UNIONID",
    LookupKind.REFERRAL_CODE: "REFCODE",
}


def lookup_pk(brand_id: str, kind: LookupKind, value: str) -> str:
    return f"BRAND#{brand_id}#{_LOOKUP_NAMES[kind]}#{value}"


def due_shard(member_id: str) -> int:
    return int(hashlib.sha256(member_id.encode()).hexdigest()[:8], 16) % DUE_SHARDS


def due_pk(due_at: datetime, member_id: str) -> str:
    """What falls due on one UTC day, spread over a few shards so a busy day is not one hot key."""
    return due_pk_for_shard(due_at, due_shard(member_id))


def due_pk_for_shard(due_at: datetime, shard: int) -> str:
    day = due_at.astimezone(timezone.utc)
    if day.year < 1000:  # strftime's %Y does not pad such a year on every platform: its own text
        return f"DUE#{day.strftime('%Y-%m-%d')}#{shard}"
    return f"DUE#{day.year}-{day.month:02d}-{day.day:02d}#{shard}"


def due_bound(at: datetime) -> str:
    """A sort-key bound that sits after every item due at `at` or earlier, and before anything due later."""
    return f"{time_key(at.astimezone(timezone.utc))}#~"


def parse_due_sk(sk: str) -> tuple[str, str, str]:
    _, what, brand_id, member_id, _ = sk.split("#", 4)
    return what, brand_id, member_id


def parse_time_key(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)


def due_sk(due_at: datetime, what: str, brand_id: str, member_id: str, ref: str = "") -> str:
    """Sorted by the instant it falls due, so a sweep reads a day up to "now" and no further."""
    return f"{time_key(due_at)}#{what}#{brand_id}#{member_id}#{ref}"


# ---- crisis alerts (plugins/crisis/) --------------------------------------------------------
#
# | item                       | pk                          | sk                        |
# | alert                      | BRAND#b                     | ALERT#<alert id>          | time-sortable id: newest first
# | unresolved alert, by key   | BRAND#b#CRISIS              | OPEN#<metric>#<scope>     | at most one per metric and scope
# | feedback counter (shard)   | BRAND#b#WINDOW#<scope>      | <hour start time key>#<n> | TTL: 8 days
#
# An open alert's response deadline is in the due index under its own partition (not the daily sweep's day
# shards), so the hourly sweep reads exactly the alerts past their deadline with one Query.

ALERT_PREFIX = "ALERT#"
OPEN_ALERT_PREFIX = "OPEN#"
FEEDBACK_HEAD = "HEAD"
ALERTS_DUE_PK = "DUE#ALERTS"


def alert_sk(alert_id: str) -> str:
    return f"{ALERT_PREFIX}{alert_id}"


def crisis_pk(brand_id: str) -> str:
    return f"BRAND#{brand_id}#CRISIS"


def open_alert_sk(metric: str, scope: str) -> str:
    return f"{OPEN_ALERT_PREFIX}{metric}#{scope}"


def feedback_pk(brand_id: str, scope: str) -> str:
    return f"BRAND#{brand_id}#WINDOW#{scope}"


def feedback_sk(hour: datetime) -> str:
    return time_key(hour)


def feedback_shard_sk(hour: datetime, shard: int) -> str:
    """One shard of an hour's counter: sorts with its hour, after the hour's unsharded counter of earlier releases."""
    return f"{time_key(hour)}#{shard}"


def alert_due_sk(respond_by: datetime, brand_id: str, alert_id: str) -> str:
    return f"{time_key(respond_by)}#{brand_id}#{alert_id}"


def parse_alert_due_sk(sk: str) -> tuple[datetime, str, str]:
    at, brand_id, alert_id = sk.split("#", 2)
    return parse_time_key(at), brand_id, alert_id
