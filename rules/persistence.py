"""The `Store` protocol: everything `rules/` needs from persistence, and nothing about DynamoDB.

`infra.dynamo_store.DynamoStore` implements it on one DynamoDB table. Writes are all-or-nothing: each method that writes
either lands every item it was given or raises and lands none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Iterator, Mapping, Protocol, Sequence, TypeVar

from rules.audit import AuditRecord
from rules.brands import BrandConfig
from rules.consent import ConsentRecord
from rules.errors import WriteConflict
from rules.daily_totals import DailyDelta
from rules.ledger import Entry, Posting
from rules.members import LookupKind, MemberProfile, MemberState, Registration, RequestRecord
from rules.sweeps import SweepRun

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    cursors: Sequence[str]
    end_cursor: str | None
    has_next_page: bool


class RequestAlreadyRecorded(Exception):
    """The idempotency key was recorded by an earlier request; carries what that request returned."""

    def __init__(self, record: RequestRecord) -> None:
        super().__init__(record.key)
        self.record = record


class LookupTaken(Exception):
    """A registration lost a uniqueness race on one of its lookups (phone, openid, unionid, referral code)."""

    def __init__(self, kind: LookupKind) -> None:
        super().__init__(kind.value)
        self.kind = kind


class AlreadyReversed(Exception):
    def __init__(self, entry_id: str) -> None:
        super().__init__(entry_id)
        self.entry_id = entry_id


@dataclass(frozen=True)
class Marks:
    """Which per-order markers a member load reads (`Store.load_member`): one order's (`order`, an event's
    `orderId`: its award, refunds and settlement, whoever claimed them) and/or the visits' (`visits`: check-ins and
    engagement, short-lived). `Marks()` reads none of them."""

    order: str | None = None
    visits: bool = False
    # The event opens the order (order.paid): its item is not read, the plan treats the order as new, and the store
    # puts the order's item only if it does not exist yet; if it does, the commit raises `OrderAlreadyOpened` and
    # the engine reads the member again with the order (`opens=False`).
    opens: bool = False


class Store(Protocol):
    """The core's persistence. A rule family's own reads and writes are its storage half's (`Family.storage`),
    whose `Storage` methods the concrete store gains; this protocol names none of them."""

    # Brands
    def get_brand(self, brand_id: str, *, fresh: bool = False) -> BrandConfig | None:
        """The brand's configuration (implementations may cache it for a short while; `fresh` reads it now)."""

    def put_brand(self, config: BrandConfig) -> BrandConfig:
        """Save a brand's configuration, bumping its version; raises `Busy` if it changed since `config` was read."""

    # Members
    def load_member(self, brand_id: str, member_id: str, *, request_key: str | None = None,
                    as_of: datetime | None = None, include_erased: bool = False,
                    page: bool = False, marks: "Marks | None" = None) -> MemberState | None:
        """Profile, balance, lots holding points, markers and consent records (plus the request record for
        `request_key`), in one read.

        With `marks`, what the member's state partition holds below the per-order markers (profile, lots,
        consents, holdings, daily totals, the markers that are not about single orders), plus only the per-order
        markers `marks` names (one order's, read by key unless the event opens it; the visits'): the price does not
        grow with the member's history. Without it, the whole state partition and the markers of the orders a marker
        due for the sweep names (a sweep).

        With `as_of`, markers and request records whose time-to-live ended by then are left out. An erased member
        is None unless `include_erased` (the engine, to refuse its events by name; the ledger's reconciliation).
        With `page`, what a read-only page shows, for a price that does not grow with the member's history: an
        eventually consistent read, without daily totals, request records and the markers about single orders (a
        state read so must never decide a write)."""

    def load_order(self, state: MemberState, order_id: str, *, as_of: datetime | None = None) -> MemberState:
        """`state` (loaded with `Marks(order=order_id, opens=True)`) with the order's markers read now (strongly
        consistent), as `load_member` without `opens` would have read them."""

    def find_member_id(self, brand_id: str, kind: LookupKind, value: str) -> str | None:
        ...

    def register(self, registration: Registration) -> MemberProfile:
        """Create the member and its lookups together; raises `LookupTaken` naming the first one already taken."""

    def set_nickname(self, brand_id: str, member_id: str, nickname: str | None) -> None:
        """Set (None: remove) the member's nickname; raises `MemberNotFound` if the member is gone or erased."""

    def bind_phone(self, binding: Any) -> None:
        """Write a `rules.profile.PhoneBinding`: the profile's phone and its lookup together, freeing the lookup it
        replaces; `AlreadyRegistered("phone")` if another member holds the number."""

    def set_birthday(self, brand_id: str, member_id: str, birthday: str, *, now: datetime,
                     not_since: datetime) -> None:
        """Set the birthday unless it was set after `not_since`: `rules.profile.BirthdayChangeTooSoon`."""

    def record_consent(self, profile: MemberProfile, record: ConsentRecord) -> None:
        """Append one consent record (never overwriting one); raises `MemberNotFound` if the member is gone or
        erased."""

    def member_data(self, brand_id: str, member_id: str) -> MemberData:
        """Every item of the member's partitions (state and history), whatever its type, and the lookups that
        point to the member: what an export must show and what an erasure must clear."""

    def erase_member(self, erasure: Erasure) -> None:
        """Clear the profile's personal data, mark it erased and delete its lookups in one transaction, on the
        version the erasure was planned from (`WriteConflict` otherwise); then remove `PERSONAL_ATTRIBUTES` from any
        other item of the member's partitions. Entries, lots and balances are left as they are."""

    def scrub_member(self, brand_id: str, member_id: str) -> int:
        """Remove `PERSONAL_ATTRIBUTES` from every item of the member's partitions; returns how many changed."""

    def set_standing(self, profile: MemberProfile, *, growth: int, tier_code: str,
                     tier_valid_until: datetime | None) -> None:
        """Set a member's growth value and tier (the tier rules decide; this only records)."""

    # Abuse limits (rules/limits.py)
    def count_attempt(self, brand_id: str, member_id: str, action: str, *, window_start: datetime, limit: int,
                      expires_at: datetime, live_member: bool = False) -> bool:
        """Add one to the member's counter for this action and window unless it already holds `limit` (then
        return False, changing nothing); the counter expires by itself at `expires_at`. With `live_member`, the
        member must exist and not be erased, as a condition of the same write (else `MemberNotFound`, nothing
        written)."""

    def release_attempt(self, brand_id: str, member_id: str, action: str, *, window_start: datetime) -> None:
        """Take one attempt back off this window's counter, never below zero (a request answered `Busy`)."""

    # Ledger
    def post(
        self,
        profile: MemberProfile,
        posting: Posting,
        *,
        request: RequestRecord | None = None,
    ) -> None:
        """Write a posting atomically.

        Raises `WriteConflict` when a lot or the balance moved since the plan was made, `RequestAlreadyRecorded`
        when `request.key` was used before, and `AlreadyReversed` when `posting.reverses` was reversed before.
        """

    def get_entry(self, brand_id: str, member_id: str, entry_id: str) -> Entry | None:
        ...

    def history(self, brand_id: str, member_id: str, *, first: int, after: str | None) -> Page[Entry]:
        """Ledger entries, newest first, with an opaque cursor."""

    def entries(self, brand_id: str, member_id: str) -> list[Entry]:
        """Every ledger entry of the member, oldest first (reconciliation and exports)."""

    def set_tags(self, brand_id: str, member_id: str, tags: tuple[str, ...]) -> None:
        """Replace the member's tags (the member must exist)."""

    # Events
    def commit_event(self, record: EventRecord, change: MemberChange | None, side: tuple = ()) -> None:
        """Write an event's processed record, its member changes and its side writes (the families' planners: coupon
        stock, alerts, another member's commissions) in one transaction.

        Raises `EventAlreadyProcessed` (with the earlier record) when the event id was applied before, and
        `WriteConflict` when the member changed since it was read.
        """

    def get_event(self, brand_id: str, event_id: str) -> EventRecord | None:
        """The brand's processed record of this event id, if it is still kept."""

    def activity(self, brand_id: str, member_id: str, *, first: int, after: str | None) -> Page[EventRecord]:
        """What events did to the member (effects with explanations), newest first; kept for good."""

    def record_problem(self, problem: EventProblem) -> bool:
        """Keep a rejected or failed event. The same event (id and fingerprint) is kept once however often it is
        delivered: False when it was kept before."""

    def problems(self, brand_id: str | None, *, first: int, after: str | None) -> Page[EventProblem]:
        """Rejected and failed events of a brand (None: those whose brand is unknown), newest first."""

    def due(self, since: datetime, until: datetime) -> list[Due]:
        """What falls due in (since, until], read from the due index only."""

    def due_pages(self, since: datetime, until: datetime, *, page_size: int) -> Iterator[list[Due]]:
        """What falls due in (since, until], in pages of at most `page_size` (a day's work may be large)."""

    def sweep_watermarks(self, sweep: str) -> dict[str, datetime]:
        """Each brand's watermark of this sweep: everything due up to it has been handled."""

    def advance_watermark(self, sweep: str, brand_id: str, *, read: datetime | None, to: datetime) -> bool:
        """Move a brand's watermark from `read` (None: it had none) to `to`; False (nothing written) when it is
        no longer `read`: another run moved it."""

    # A day of the daily sweep fanned out to workers (rules/fanout.py)
    def sweep_run(self, sweep: str, until: datetime) -> SweepRun | None:
        """The day's `rules.sweeps.SweepRun` (read strongly consistent), or None if no run listed it yet."""

    def open_sweep_run(self, sweep: str, run: SweepRun, *, replacing: str | None) -> bool:
        """Write a new listing of the day (`SweepRun`, total None) if the day has none (`replacing` None) or its
        listing is still attempt `replacing`; False (nothing written) when another run got there first."""

    def close_sweep_listing(self, sweep: str, until: datetime, attempt: str, total: int) -> SweepRun | None:
        """Record that attempt `attempt` handed out `total` batches; the run as it is now, None if another
        attempt replaced it."""

    def finish_sweep_batch(self, sweep: str, until: datetime, attempt: str, number: int) -> SweepRun | None:
        """Count batch `number` of the attempt as done, once however often it is delivered; the run as it is now,
        None if another attempt replaced it."""

    # Audit
    def record_audit(self, record: AuditRecord) -> None:
        """Append a staff mutation's audit record; an existing record is never overwritten."""

    def audit_log(self, brand_id: str, *, first: int, after: str | None) -> Page[AuditRecord]:
        """The brand's audit records, newest first."""


# ---- what the engine writes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Standing:
    """A member's growth value and tier after an event (absolute values)."""

    growth: int
    tier_code: str
    tier_valid_until: datetime | None
    paid_until: datetime | None = None


@dataclass(frozen=True)
class MemberChange:
    """Everything one event changes on one member, written together with the event's processed record."""

    profile: MemberProfile
    expected_version: int
    posting: Posting | None = None
    standing: Standing | None = None
    # (key, forget after, data, due at: when the daily sweep should bring the member back to the rules, or None)
    markers: tuple[tuple[str, datetime, Mapping[str, Any], datetime | None], ...] = ()
    # The member's running totals after the event (all of them), when an `AddToTotal` changed one; None: unchanged.
    totals: Mapping[str, int] | None = None
    # What the event adds to the member's daily totals (`AddToDailyTotal`), one per total and day: added by the
    # store (never set whole), so concurrent events lose none.
    daily: tuple[DailyDelta, ...] = ()
    # The earliest instant the due index may list this change's entries at (lots, a tier validity, markers), when
    # one of them fell due before the brand's sweep watermark (Engine.due_floor); None: each at its own time.
    due_floor: datetime | None = None
    # What the store read of the orders' own items (`MemberState.orders`, opaque to the rules), handed back so
    # that it updates what it read and puts what it did not.
    orders: Mapping[str, Any] | None = None

    def due_dates(self) -> tuple[datetime, ...]:
        """When what this change puts in the due index falls due."""
        dates = [due for _, _, _, due in self.markers if due is not None]
        if self.posting is not None and self.posting.listed is not None:
            dates += [lot.expires_at for lot in self.posting.listed]
        elif self.posting is not None:
            dates += [lot.expires_at for lot in self.posting.new_lots if lot.remaining > 0]
            dates += [u.expires_at for u in self.posting.lot_updates
                      if not u.is_exact or (u.before == 0 and u.after_or_delta > 0)]
        if self.standing is not None and self.standing.tier_valid_until is not None:
            dates.append(self.standing.tier_valid_until)
        return tuple(dates)


@dataclass(frozen=True)
class EventRecord:
    """The processed marker: the event id (which must not exist yet), what was applied, the follow-ups sent."""

    event_id: str
    brand_id: str
    detail_type: str
    at: datetime
    effects: tuple[dict, ...]
    follow_ups: tuple[dict, ...]
    # What the member's activity keeps (None: all the effects); brand-level effects (crisis alerts) are left out.
    member_effects: tuple[dict, ...] | None = None
    # The event's content (rules.events.fingerprint): a later event reusing the id with other content is refused.
    fingerprint: str | None = None
    # Whom it was about and the amount it carried (`amountFen`), kept on the record for the brand's KPIs.
    member_id: str | None = None
    amount_fen: int | None = None


@dataclass(frozen=True)
class EventProblem:
    """An event Siyu could not apply: `rejected` (invalid) or `failed` (a plugin raised). Kept for staff."""

    event_id: str
    brand_id: str | None
    detail_type: str
    status: str
    reason: str
    received_at: datetime
    raw: str
    field: str | None = None
    plugin: str | None = None
    # With the event id, what makes a delivery "the same problem again" (kept once).
    fingerprint: str = ""


class OrderAlreadyOpened(WriteConflict):
    """An event that opens an order (`Marks.opens`) was planned as if the order were new, and the order already
    has its item (a refund remembered before its order, the same order paid under another event id): nothing was
    written; read the member again with the order's markers, and plan again."""


class EventAlreadyProcessed(Exception):
    def __init__(self, record: EventRecord) -> None:
        super().__init__(record.event_id)
        self.record = record


@dataclass(frozen=True)
class StoredItem:
    """One item as stored, whatever its type: for exports, which must show everything, including item types
    added after this code was written."""

    partition: str  # "member" (state) or "history" (ledger entries, activity)
    type: str
    key: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class MemberData:
    items: tuple[StoredItem, ...]
    lookups: tuple[tuple[LookupKind, str], ...]  # those that exist and point to the member


@dataclass(frozen=True)
class Erasure:
    """What erasing one member changes (planned by `rules.erasure`)."""

    brand_id: str
    member_id: str
    expected_version: int
    at: datetime
    actor: str
    lookups: tuple[tuple[LookupKind, str], ...]


@dataclass(frozen=True)
class Due:
    what: str  # LOT, TIER, ...
    brand_id: str
    member_id: str
    at: datetime
