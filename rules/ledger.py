"""The points ledger, as pure planning.

A member's points live in *lots* (what one earning added, with its own expiry) and every change is an immutable
*entry*. A planner here reads the member's current points and returns a `Posting`: the entries to append and the
lot changes they imply. The store writes a posting in one transaction, conditioned on the lot values the plan was
based on, so the three views of a member's points can never disagree:

    stored balance == sum of entries == sum of lot remainders

What a member can spend is derived, never stored: the remainders of the lots whose expiry is still ahead. A lot
past its expiry is unspendable from that instant, whether or not the expiry sweep has written its `expire` entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from operator import attrgetter
from typing import Any, Iterable, Mapping

from rules import plain
from rules.errors import EntryNotReversible, InsufficientPoints, InvalidInput, PointsDebtOutstanding, TooManyLots

# A TransactWriteItems holds at most 100 items; a posting also writes its entries, the member and a record or two.
MAX_LOTS_PER_POSTING = 80


class EntryKind(str, Enum):
    EARN = "earn"
    REDEEM = "redeem"
    ADJUST = "adjust"
    REVERSE = "reverse"
    EXPIRE = "expire"
    TAKE_BACK = "take_back"  # points an event takes back (a refund); what was already spent becomes debt
    REPAY = "repay"  # newly earned points that pay that debt off first
    IMPORT = "import"  # an opening balance brought over from another loyalty system (rules/importing.py)


@dataclass(frozen=True)
class Lot:
    lot_id: str
    earned: int
    remaining: int
    earned_at: datetime
    expires_at: datetime
    # What earned it, when a rule names it (the `points` plugin: "points:order:o1"), so a refund of that order
    # takes back this lot's points first.
    source: str | None = None
    # Whether the due index lists it (as loaded; new lots are not yet). Only the earliest holding lot needs to be
    # (`listing`): the sweep that expires it lists the next.
    listed: bool = False

    def expired(self, now: datetime) -> bool:
        return self.expires_at <= now


@dataclass(frozen=True)
class Allocation:
    """How much of an entry landed on (positive) or came out of (negative) one lot."""

    lot_id: str
    expires_at: datetime
    points: int


@dataclass(frozen=True)
class Entry:
    entry_id: str
    at: datetime
    kind: EntryKind
    points: int
    allocations: tuple[Allocation, ...]
    reason: str | None = None
    actor: str | None = None
    reverses: str | None = None
    event_id: str | None = None
    # Why the entry exists, for "why did I get 12 points?": plugin, version, rule and the inputs that decided it.
    explanation: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.points != sum(a.points for a in self.allocations):
            raise ValueError("an entry's points must equal the sum of its lot allocations")


@dataclass(frozen=True)
class LotUpdate:
    """An existing lot whose remainder moves from `before` to `after`.

    `before` is None when the lot is not in the member's loaded state (a lot emptied earlier that a reversal
    refills): then the store adds the difference instead of checking an exact value, which is safe because a
    refill only ever raises a remainder.
    """

    lot_id: str
    expires_at: datetime
    before: int | None
    after_or_delta: int
    # For a refill of a lot no longer stored (`before` None): when it was earned and how much, from the entry that
    # created it (its id is the lot's), so it comes back as it was, in its place among lots expiring together.
    earned_at: datetime | None = None
    earned: int | None = None

    @property
    def is_exact(self) -> bool:
        return self.before is not None


@dataclass(frozen=True)
class Posting:
    """Everything one ledger operation writes, atomically."""

    entries: tuple[Entry, ...]
    new_lots: tuple[Lot, ...] = ()
    lot_updates: tuple[LotUpdate, ...] = ()
    reverses: str | None = None
    debt_delta: int = 0  # points owed added (positive) or repaid (negative)
    debt_before: int = 0  # the debt the plan started from: a change of debt is conditioned on it
    # The lots this posting lists in the due index, new or existing, as they are after it (`listing`); None: every
    # new lot and every lot brought back, as before lots were listed sparingly.
    listed: tuple[Lot, ...] | None = None

    def lists(self, lot_id: str) -> bool:
        return self.listed is None or any(lot.lot_id == lot_id for lot in self.listed)

    @property
    def points(self) -> int:
        return sum(e.points for e in self.entries)

    @property
    def debit(self) -> int:
        """Points this posting takes out of the balance (0 when it only adds)."""
        return max(0, -self.points)


@dataclass(frozen=True)
class PointsState:
    """A member's points as loaded: the stored balance, every lot that still holds points, and any debt.

    Debt is what a refund should have taken back but had already been spent. It is kept apart from the balance
    (which stays the sum of lot remainders); new earnings repay it first, and no redemption is allowed until it is
    paid off.
    """

    balance: int
    lots: tuple[Lot, ...] = field(default_factory=tuple)
    debt: int = 0

    def spendable_lots(self, now: datetime) -> list[Lot]:
        """Lots that can be spent at `now`, in the order they are spent: earliest expiry first."""
        usable = [lot for lot in self.lots if lot.remaining > 0 and not lot.expired(now)]
        return sorted(usable, key=lambda lot: (lot.expires_at, lot.earned_at, lot.lot_id))

    def spendable(self, now: datetime) -> int:
        return sum(lot.remaining for lot in self.spendable_lots(now))

    def expiring_within(self, now: datetime, days: int) -> int:
        horizon = now + timedelta(days=days)
        return sum(lot.remaining for lot in self.spendable_lots(now) if lot.expires_at <= horizon)

    def lot(self, lot_id: str) -> Lot | None:
        return next((lot for lot in self.lots if lot.lot_id == lot_id), None)


# The classes the planners make on every event, as makers taking every field in order (rules/plain.py).
_LOT = plain.maker(Lot)
_ALLOCATION = plain.maker(Allocation)
_POSTING = plain.maker(Posting)
_POINTS = plain.maker(PointsState)


def _positive(points: int, field_name: str = "points") -> None:
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise InvalidInput(field_name, "invalid.positive_points")


def earn(
    state: PointsState,
    *,
    points: int,
    now: datetime,
    expires_at: datetime,
    entry_id: str,
    kind: EntryKind = EntryKind.EARN,
    reason: str | None = None,
    actor: str | None = None,
    event_id: str | None = None,
    explanation: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Posting:
    """Add `points` as a new lot expiring at `expires_at` (the lot takes the entry's id; `source` says what
    earned it, for a later take-back of that very thing)."""
    _positive(points)
    if expires_at <= now:
        raise InvalidInput("expiresAt", "invalid.expiry_after_earning")
    repaid = min(points, state.debt)
    # Every field given, in order (rules/plain.py): the objects the keyword calls made, without their setattrs.
    lot = _LOT(entry_id, points, points - repaid, now, expires_at, source, False)
    entry = Entry(
        entry_id=entry_id,
        at=now,
        kind=kind,
        points=points,
        allocations=(_ALLOCATION(entry_id, expires_at, points),),
        reason=reason,
        actor=actor,
        event_id=event_id,
        explanation=explanation,
    )
    if not repaid:
        return _POSTING((entry,), (lot,), (), None, 0, 0, None)
    repayment = Entry(entry_id=f"{entry_id}-r", at=now, kind=EntryKind.REPAY, points=-repaid,
                      allocations=(Allocation(lot.lot_id, expires_at, -repaid),),
                      reason=f"repays {repaid} points owed", actor=actor, event_id=event_id)
    return Posting(entries=(entry, repayment), new_lots=(lot,), debt_delta=-repaid, debt_before=state.debt)


def spend(
    state: PointsState,
    *,
    points: int,
    now: datetime,
    entry_id: str,
    kind: EntryKind = EntryKind.REDEEM,
    reason: str | None = None,
    actor: str | None = None,
    event_id: str | None = None,
    explanation: Mapping[str, Any] | None = None,
) -> Posting:
    """Take `points` from the spendable lots, earliest expiry first; refuse when they do not cover it."""
    _positive(points)
    if state.debt > 0:
        raise PointsDebtOutstanding(state.debt)
    available = state.spendable(now)
    if points > available:
        raise InsufficientPoints(requested=points, available=available)
    allocations: list[Allocation] = []
    updates: list[LotUpdate] = []
    left = points
    for lot in state.spendable_lots(now):
        take = min(lot.remaining, left)
        allocations.append(Allocation(lot.lot_id, lot.expires_at, -take))
        updates.append(LotUpdate(lot.lot_id, lot.expires_at, before=lot.remaining, after_or_delta=lot.remaining - take))
        left -= take
        if left == 0:
            break
    if len(updates) > MAX_LOTS_PER_POSTING:
        raise TooManyLots(len(updates), MAX_LOTS_PER_POSTING)
    entry = Entry(
        entry_id=entry_id,
        at=now,
        kind=kind,
        points=-points,
        allocations=tuple(allocations),
        reason=reason,
        actor=actor,
        event_id=event_id,
        explanation=explanation,
    )
    return Posting(entries=(entry,), lot_updates=tuple(updates))


def adjust(
    state: PointsState,
    *,
    points: int,
    reason: str,
    now: datetime,
    expires_at: datetime,
    entry_id: str,
    actor: str | None = None,
) -> Posting:
    """A staff correction: positive adds a lot, negative spends like a redemption. A reason is mandatory."""
    if not reason or not reason.strip():
        raise InvalidInput("reason", "invalid.adjustment_reason")
    if isinstance(points, bool) or not isinstance(points, int) or points == 0:
        raise InvalidInput("points", "invalid.nonzero_points")
    if points > 0:
        return earn(state, points=points, now=now, expires_at=expires_at, entry_id=entry_id,
                    kind=EntryKind.ADJUST, reason=reason.strip(), actor=actor)
    return spend(state, points=-points, now=now, entry_id=entry_id, kind=EntryKind.ADJUST,
                 reason=reason.strip(), actor=actor)


def reverse(
    state: PointsState,
    original: Entry,
    *,
    now: datetime,
    entry_id: str,
    reason: str | None = None,
    actor: str | None = None,
    earnings: Mapping[str, Entry] | None = None,
) -> Posting:
    """Undo one entry exactly, lot by lot.

    Reversing an addition takes its points back from the lot it created, which must still hold them (points
    already spent or expired cannot be taken back; the caller gets a typed refusal). Reversing a spend puts the
    points back on the lots they came from; points put back on a lot that has expired meanwhile expire again in
    the same posting, so nothing past its expiry becomes spendable.
    """
    if original.kind in (EntryKind.REVERSE, EntryKind.EXPIRE, EntryKind.TAKE_BACK, EntryKind.REPAY):
        raise EntryNotReversible(original.entry_id, "FINAL", kind=original.kind.value)
    allocations: list[Allocation] = []
    net: dict[str, int] = {}
    expiries: dict[str, datetime] = {}
    for alloc in original.allocations:
        allocations.append(Allocation(alloc.lot_id, alloc.expires_at, -alloc.points))
        net[alloc.lot_id] = net.get(alloc.lot_id, 0) - alloc.points
        expiries[alloc.lot_id] = alloc.expires_at
    entries = [
        Entry(entry_id=entry_id, at=now, kind=EntryKind.REVERSE, points=-original.points,
              allocations=tuple(allocations), reason=reason, actor=actor, reverses=original.entry_id)
    ]
    expired_refills = [
        Allocation(lot_id, expiries[lot_id], -points)
        for lot_id, points in net.items()
        if points > 0 and expiries[lot_id] <= now
    ]
    if expired_refills:
        entries.append(
            Entry(entry_id=entry_id + "-x", at=now, kind=EntryKind.EXPIRE,
                  points=sum(a.points for a in expired_refills), allocations=tuple(expired_refills),
                  reason="reversed points landed on an expired lot", actor=actor, reverses=None)
        )
        for alloc in expired_refills:
            net[alloc.lot_id] += alloc.points
    if len(net) > MAX_LOTS_PER_POSTING:
        raise TooManyLots(len(net), MAX_LOTS_PER_POSTING)
    updates: list[LotUpdate] = []
    for lot_id, delta in net.items():
        if delta == 0:
            continue
        lot = state.lot(lot_id)
        if delta < 0:
            if lot is None or lot.remaining < -delta:
                raise EntryNotReversible(original.entry_id, "SPENT")
            updates.append(LotUpdate(lot_id, lot.expires_at, before=lot.remaining, after_or_delta=lot.remaining + delta))
        elif lot is not None:
            updates.append(LotUpdate(lot_id, lot.expires_at, before=lot.remaining, after_or_delta=lot.remaining + delta))
        else:
            # A lot emptied (and so deleted) since: `earnings` has the entry that created it, if the caller read it.
            earning = (earnings or {}).get(lot_id)
            updates.append(LotUpdate(lot_id, expiries[lot_id], before=None, after_or_delta=delta,
                                     earned_at=earning.at if earning else None,
                                     earned=earning.points if earning else None))
    return Posting(entries=tuple(entries), lot_updates=tuple(updates), reverses=original.entry_id)


def refilled_lots(state: PointsState, original: Entry) -> tuple[str, ...]:
    """The lots reversing `original` would put points back on that the member no longer holds (emptied, deleted):
    their earning entries are what `reverse` needs to bring them back as they were."""
    return tuple(sorted({a.lot_id for a in original.allocations if a.points < 0 and state.lot(a.lot_id) is None}))


def take_back(
    state: PointsState,
    *,
    points: int,
    now: datetime,
    entry_id: str,
    reason: str | None = None,
    actor: str | None = None,
    event_id: str | None = None,
    explanation: Mapping[str, Any] | None = None,
    source: str | None = None,
) -> Posting:
    """Take `points` back (a refund). With a `source` (the refunded order), from that source's own lots first:
    a refund of one order never touches another order's points while its own are still there. What is no longer
    on them (spent, or past expiry) comes from the other spendable lots, earliest expiry first; whatever is not
    there either becomes debt."""
    _positive(points)
    spendable = state.spendable_lots(now)
    own = [lot for lot in spendable if source is not None and lot.source == source]
    usable = own + [lot for lot in spendable if lot not in own]
    allocations: list[Allocation] = []
    updates: list[LotUpdate] = []
    left = points
    for lot in usable:
        if left == 0:
            break
        take = min(lot.remaining, left)
        allocations.append(Allocation(lot.lot_id, lot.expires_at, -take))
        updates.append(LotUpdate(lot.lot_id, lot.expires_at, before=lot.remaining, after_or_delta=lot.remaining - take))
        left -= take
    entry = Entry(entry_id=entry_id, at=now, kind=EntryKind.TAKE_BACK, points=-(points - left),
                  allocations=tuple(allocations), reason=reason, actor=actor, event_id=event_id,
                  explanation={**(explanation or {}), "owed": left} if left else explanation)
    if len(updates) > MAX_LOTS_PER_POSTING:
        raise TooManyLots(len(updates), MAX_LOTS_PER_POSTING)
    return Posting(entries=(entry,), lot_updates=tuple(updates), debt_delta=left, debt_before=state.debt)


def expire(state: PointsState, *, now: datetime, entry_id: str, actor: str | None = None,
           lots: Iterable[Lot] | None = None) -> Posting | None:
    """Write off what remains on lots past their expiry (all of them, or the given ones). None when nothing is due."""
    due = [lot for lot in (lots if lots is not None else state.lots) if lot.remaining > 0 and lot.expired(now)]
    # The rest (rare: a member with more expired lots than one write holds) goes in the next sweep.
    due = sorted(due, key=lambda lot: (lot.expires_at, lot.lot_id))[:MAX_LOTS_PER_POSTING]
    if not due:
        return None
    allocations = tuple(Allocation(lot.lot_id, lot.expires_at, -lot.remaining) for lot in due)
    entry = Entry(entry_id=entry_id, at=now, kind=EntryKind.EXPIRE, points=sum(a.points for a in allocations),
                  allocations=allocations, reason="points reached their expiry", actor=actor)
    updates = tuple(LotUpdate(lot.lot_id, lot.expires_at, before=lot.remaining, after_or_delta=0) for lot in due)
    return Posting(entries=(entry,), lot_updates=updates)


def applied(state: PointsState, posting: Posting) -> PointsState:
    """The member's points after `posting` lands (what the next plan in the same request starts from)."""
    lots = {lot.lot_id: lot for lot in state.lots}
    for update in posting.lot_updates:
        lot = lots.get(update.lot_id)
        if lot is not None:
            remaining = update.after_or_delta if update.is_exact else lot.remaining + update.after_or_delta
            lots[update.lot_id] = replace(lot, remaining=remaining)
        else:
            lots[update.lot_id] = Lot(update.lot_id, update.earned or update.after_or_delta, update.after_or_delta,
                                      update.earned_at or update.expires_at, update.expires_at)
    for lot in posting.new_lots:
        lots[lot.lot_id] = lot
    return _POINTS(state.balance + posting.points, tuple(lots.values()), state.debt + posting.debt_delta)


def combine(postings: Iterable[Posting]) -> Posting:
    """Several postings planned one after another (each from the state the previous one leaves) as one write."""
    postings = list(postings)
    if len(postings) == 1:
        # Most events post once (an order's award): a posting with at most one new lot and no lot updates is its
        # own combination, field for field (issue 15, engine CPU; tests/unit/test_ledger_combine.py).
        only = postings[0]
        if (type(only) is Posting and only.listed is None and type(only.entries) is tuple
                and type(only.new_lots) is tuple and len(only.new_lots) <= 1 and only.lot_updates == ()):
            return only
    entries: list[Entry] = []
    new_lots: dict[str, Lot] = {}
    updates: dict[str, LotUpdate] = {}
    reverses = None
    debt = 0
    debt_before = postings[0].debt_before if postings else 0
    for posting in postings:
        entries += posting.entries
        debt += posting.debt_delta
        for lot in posting.new_lots:
            new_lots[lot.lot_id] = lot
        for update in posting.lot_updates:
            if update.lot_id in new_lots:
                lot = new_lots[update.lot_id]
                remaining = update.after_or_delta if update.is_exact else lot.remaining + update.after_or_delta
                new_lots[update.lot_id] = replace(lot, remaining=remaining)
            elif update.lot_id in updates and update.is_exact:
                first = updates[update.lot_id]
                updates[update.lot_id] = LotUpdate(update.lot_id, update.expires_at, first.before,
                                                   update.after_or_delta)
            else:
                updates[update.lot_id] = update
        reverses = reverses or posting.reverses
    return Posting(entries=tuple(entries), new_lots=tuple(new_lots.values()), lot_updates=tuple(updates.values()),
                   reverses=reverses, debt_delta=debt, debt_before=debt_before)


def _expiry_order(lot: Lot) -> tuple[datetime, str]:
    return lot.expires_at, lot.lot_id


_by_expiry = attrgetter("expires_at", "lot_id")  # `_expiry_order` in C, for sorting every lot on every event


def listing(state: PointsState, posting: Posting, *, reminders_from: Iterable[datetime] = (),
            list_new: bool = False) -> Posting:
    """`posting` with the lots the due index must list after it (`Posting.listed`), which are:

    - the earliest-expiring lot that holds points: its expiry brings the sweep, which writes it off and (this
      function again) lists the next. A later lot needs no entry of its own, so most new lots write none;
    - the next holding lot after each listed lot this posting empties (a redemption deletes it), so no chain breaks;
    - a lot brought back by a reversal (as before);
    - for reminders before expiry (the sweep looks `offset` days ahead in the due index), for each
      `reminders_from` instant (the first day such a look-ahead has not reached yet), the first holding lot
      expiring from then on: the sweep that finds it there reminds it and lists the next one the same way.
    A lot already listed is not written again; one listed needlessly (stored by an earlier version) is harmless.
    `list_new`: every new lot too, for a caller that cannot tell how far reminders look ahead.
    """
    after = applied(state, posting)
    holding = sorted([lot for lot in after.lots if lot.remaining > 0], key=_by_expiry)
    fresh = {lot.lot_id for lot in posting.new_lots}
    wanted: dict[str, Lot] = {}

    def want(lot: Lot | None) -> None:
        if lot is not None and (lot.lot_id in fresh or not lot.listed):
            wanted[lot.lot_id] = lot

    if holding:
        want(holding[0])
    if list_new:
        for lot in holding:
            if lot.lot_id in fresh:
                want(lot)
    held = None  # the holding lots' ids, made only when a listed lot may have been emptied (issue 15, engine CPU)
    for gone in state.lots:
        if gone.listed and gone.remaining > 0:
            if held is None:
                held = {lot.lot_id for lot in holding}
            if gone.lot_id not in held:
                want(next((lot for lot in holding if _expiry_order(lot) > _expiry_order(gone)), None))
    if posting.lot_updates:
        by_id = {lot.lot_id: lot for lot in holding}
        for update in posting.lot_updates:
            if update.lot_id in by_id and (update.before is None or update.before == 0):
                wanted[update.lot_id] = by_id[update.lot_id]
    for start in reminders_from:
        want(next((lot for lot in holding if lot.expires_at >= start), None))
    listed = tuple(wanted.values())
    if type(posting) is Posting:  # what replace() makes of a Posting, every other field as it was
        return _POSTING(posting.entries, posting.new_lots, posting.lot_updates, posting.reverses, posting.debt_delta,
                        posting.debt_before, listed)
    return replace(posting, listed=listed)
