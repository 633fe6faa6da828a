"""Points operations as services: read the member, plan with `rules.ledger`, write through the `Store`.

Each takes an idempotency key: the first request with a key writes its posting together with a record of its
result; a repeat finds that record (in the same single read) and returns the first result, writing nothing. A key
is remembered for 30 days of the request's own time; after that it is new again.
Concurrent writers are handled optimistically: a plan is conditioned on the lot values it read, and a request
that loses the race reads again and re-plans, so no interleaving can spend a point twice or go below zero.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from rules import free_text, ids, ledger
from fractions import Fraction

from rules.brands import BrandConfig
from rules.expiry import expiry_for_brand
from rules.errors import (
    PointsPaymentTooLarge,
    Busy,
    EntryNotFound,
    EntryNotReversible,
    IdempotencyKeyReused,
    InvalidInput,
    MemberNotFound,
    WriteConflict,
)
from rules.ledger import Entry, Posting
from rules.members import MemberState, RequestRecord
from rules.persistence import AlreadyReversed, Marks, RequestAlreadyRecorded, Store

MAX_ATTEMPTS = 40
MAX_KEY_LENGTH = 128


@dataclass(frozen=True)
class PointsResult:
    """What a points operation did: the entry it wrote and the spendable balance right after."""

    entry_id: str
    points: int
    balance: int
    replayed: bool = False

    def as_record(self) -> dict:
        return {"entryId": self.entry_id, "points": self.points, "balance": self.balance}

    @classmethod
    def from_record(cls, record: RequestRecord) -> "PointsResult":
        r = record.result
        return cls(entry_id=r["entryId"], points=r["points"], balance=r["balance"], replayed=True)


MAX_REASON_LENGTH = 500


def _kept_reason(reason: str | None) -> str | None:
    """The reason as the ledger keeps it: free text, so phone numbers, identity numbers and identifiers in it are
    masked before it is stored (rules/free_text.py; erasure removes what is left)."""
    if reason is not None and len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput("reason", "invalid.reason_length", max=MAX_REASON_LENGTH)
    return None if reason is None else free_text.scrub(reason)


def _check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput("idempotencyKey", "invalid.idempotency_key", max=MAX_KEY_LENGTH)
    return key


def _fingerprint(operation: str, **params: object) -> str:
    payload = json.dumps({"op": operation, **params}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def _replay(record: RequestRecord, fingerprint: str) -> PointsResult:
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(record.key)
    return PointsResult.from_record(record)


def _run(
    store: Store,
    brand_id: str,
    member_id: str,
    key: str,
    fingerprint: str,
    now: datetime,
    plan: Callable[[MemberState], Posting | None],
) -> PointsResult | None:
    """The optimistic loop shared by every keyed points operation."""
    _check_key(key)
    for attempt in range(MAX_ATTEMPTS):
        # No per-order markers (a points operation reads none): what this costs does not grow with the member's
        # orders; the request record is looked up by its key.
        state = store.load_member(brand_id, member_id, request_key=key, as_of=now, marks=Marks())
        if state is None:
            raise MemberNotFound(member_id)
        if state.request is not None:
            return _replay(state.request, fingerprint)
        posting = plan(state)
        if posting is None:
            return None
        # The due index keeps listing the earliest holding lot (a redemption that empties it lists the next).
        posting = ledger.listing(state.points, posting, list_new=True)
        main = posting.entries[0]
        after = ledger.applied(state.points, posting)
        result = PointsResult(entry_id=main.entry_id, points=main.points, balance=after.spendable(now))
        record = RequestRecord(key=key, fingerprint=fingerprint, result=result.as_record(), at=now)
        try:
            store.post(state.profile, posting, request=record)
            return result
        except RequestAlreadyRecorded as seen:
            return _replay(seen.record, fingerprint)
        except WriteConflict:
            # Someone else moved the same lots first: back off a little, then read and plan again.
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
    raise Busy("the member's points are changing too fast; nothing was written, try again")


def earn(store: Store, brand_id: str, member_id: str, *, points: int, now: datetime, expires_at: datetime,
         idempotency_key: str, reason: str | None = None, actor: str | None = None) -> PointsResult:
    reason = _kept_reason(reason)
    fp = _fingerprint("earn", points=points, expires_at=expires_at.isoformat(), reason=reason)
    return _run(store, brand_id, member_id, idempotency_key, fp, now, lambda s: ledger.earn(
        s.points, points=points, now=now, expires_at=expires_at,
        entry_id=ids.entry_id(now, idempotency_key), reason=reason, actor=actor))


def redeem(store: Store, brand_id: str, member_id: str, *, points: int, now: datetime, idempotency_key: str,
           reason: str | None = None, actor: str | None = None) -> PointsResult:
    reason = _kept_reason(reason)
    fp = _fingerprint("redeem", points=points, reason=reason)
    return _run(store, brand_id, member_id, idempotency_key, fp, now, lambda s: ledger.spend(
        s.points, points=points, now=now, entry_id=ids.entry_id(now, idempotency_key),
        reason=reason, actor=actor))


def adjust(store: Store, brand_id: str, member_id: str, *, points: int, reason: str, now: datetime,
           idempotency_key: str, actor: str | None = None, validity_days: int | None = None) -> PointsResult:
    """A staff correction. Added points expire like earned ones (the brand's policy) unless `validity_days` says."""
    reason = _kept_reason(reason)
    fp = _fingerprint("adjust", points=points, reason=reason)
    if validity_days is not None:
        expires_at = now + timedelta(days=validity_days)
    else:
        brand = store.get_brand(brand_id)
        if brand is None:
            raise MemberNotFound(member_id)
        expires_at = expiry_for_brand(brand, now)
    return _run(store, brand_id, member_id, idempotency_key, fp, now, lambda s: ledger.adjust(
        s.points, points=points, reason=reason, now=now, expires_at=expires_at,
        entry_id=ids.entry_id(now, idempotency_key), actor=actor))


def reverse(store: Store, brand_id: str, member_id: str, *, entry_id: str, now: datetime, idempotency_key: str,
            reason: str | None = None, actor: str | None = None) -> PointsResult:
    reason = _kept_reason(reason)
    fp = _fingerprint("reverse", entry_id=entry_id, reason=reason)
    original = store.get_entry(brand_id, member_id, entry_id)
    if original is None:
        raise EntryNotFound(entry_id)
    try:
        return _run(store, brand_id, member_id, idempotency_key, fp, now, lambda s: ledger.reverse(
            s.points, original, now=now, entry_id=ids.entry_id(now, idempotency_key),
            reason=reason, actor=actor, earnings=_earnings(store, brand_id, member_id, s, original)))
    except AlreadyReversed:
        raise EntryNotReversible(entry_id, "ALREADY_REVERSED") from None


def _earnings(store: Store, brand_id: str, member_id: str, state: MemberState, original: Entry) -> dict[str, Entry]:
    """The entries that created the lots a reversal refills after they were emptied (a lot's id is its earning
    entry's): history, never changed, so reading it decides nothing a concurrent write could invalidate."""
    found = {lot_id: store.get_entry(brand_id, member_id, lot_id)
             for lot_id in ledger.refilled_lots(state.points, original)}
    return {lot_id: entry for lot_id, entry in found.items() if entry is not None}


def expire_due(store: Store, brand_id: str, member_id: str, *, now: datetime, actor: str = "sweep") -> PointsResult | None:
    """Write off the member's lots past expiry (the sweep's per-member step). None when nothing was due."""
    key = f"expire:{now.isoformat()}"
    fp = _fingerprint("expire", at=now.isoformat())
    return _run(store, brand_id, member_id, key, fp, now, lambda s: ledger.expire(
        s.points, now=now, entry_id=ids.entry_id(now, key), actor=actor))


@dataclass(frozen=True)
class PointsPayment:
    result: PointsResult
    discount_fen: int


def pay_with_points(store: Store, brand: BrandConfig, member_id: str, *, points: int, order_id: str,
                    order_amount_fen: int, now: datetime, idempotency_key: str,
                    actor: str | None = None) -> PointsPayment:
    """Use points as money on an order, under the brand's redemption policy (e.g. 100 points = 1 yuan, at least
    100 points, at most 50% of the order). The points are spent earliest expiry first, like any redemption; with
    `points_expiry`'s `expiringRedemption`, those about to expire are worth more (5折: half the usual cost)."""
    policy = brand.redemption
    if isinstance(points, bool) or not isinstance(points, int) or points < policy.minimum_points:
        raise InvalidInput("points", "invalid.minimum_points", minimum=policy.minimum_points)
    if points * 100 % policy.points_per_yuan:
        raise InvalidInput("points", "invalid.points_per_yuan", per_yuan=policy.points_per_yuan)
    if isinstance(order_amount_fen, bool) or not isinstance(order_amount_fen, int) or order_amount_fen <= 0:
        raise InvalidInput("orderAmountFen", "invalid.order_amount")
    expiring = _expiring_redemption(brand)
    value_fen = points * 100 // policy.points_per_yuan
    if expiring is not None:
        state = store.load_member(brand.brand_id, member_id, as_of=now, marks=Marks())
        if state is None:
            raise MemberNotFound(member_id)
        value_fen = _value_fen(policy, _drawn_from_expiring(state.points.spendable_lots(now), points, now, expiring),
                               points, expiring)
    max_fen = int(order_amount_fen * Fraction(str(policy.max_share_of_order)))
    if value_fen > max_fen:
        raise PointsPaymentTooLarge(max_points=max_fen * policy.points_per_yuan // 100, max_fen=max_fen)
    # The reason is part of the request's fingerprint: it names only what the caller sent, so a retry matches.
    result = redeem(store, brand.brand_id, member_id, points=points, now=now, idempotency_key=idempotency_key,
                    reason=f"paid part of order {order_id}"[:MAX_REASON_LENGTH], actor=actor)
    spent = -result.points
    if expiring is None:
        return PointsPayment(result=result, discount_fen=spent * 100 // policy.points_per_yuan)
    # What the points paid follows the lots the entry actually drew on (the same on a replay of the request).
    entry = store.get_entry(brand.brand_id, member_id, result.entry_id)
    horizon = entry.at + timedelta(days=expiring[0])
    from_expiring = sum(-a.points for a in entry.allocations if a.expires_at <= horizon)
    return PointsPayment(result=result, discount_fen=min(max_fen, _value_fen(policy, from_expiring, spent, expiring)))


def _expiring_redemption(brand: BrandConfig) -> tuple[int, int] | None:
    params = brand.plugins.get("points_expiry")
    rule = params.get("expiringRedemption") if params else None
    return (rule["withinDays"], rule["costPercent"]) if rule else None


def _drawn_from_expiring(lots, points: int, now: datetime, expiring: tuple[int, int]) -> int:
    """How many of `points`, spent earliest expiry first, come from lots expiring within the window."""
    horizon, left, drawn = now + timedelta(days=expiring[0]), points, 0
    for lot in lots:
        take = min(left, lot.remaining)
        if lot.expires_at <= horizon:
            drawn += take
        left -= take
        if not left:
            break
    return drawn


def _value_fen(policy, from_expiring: int, points: int, expiring: tuple[int, int]) -> int:
    regular = (points - from_expiring) * 100 // policy.points_per_yuan
    return regular + from_expiring * 100 * 100 // (policy.points_per_yuan * expiring[1])


def reconcile(store: Store, brand_id: str, member_id: str) -> dict:
    """The ledger's self-check: stored balance, sum of entries and sum of lot remainders must agree (erased
    members included: their ledger stays for accounting)."""
    state = store.load_member(brand_id, member_id, include_erased=True)
    if state is None:
        raise MemberNotFound(member_id)
    entries = store.entries(brand_id, member_id)
    return {
        "balance": state.points.balance,
        "entries": sum(e.points for e in entries),
        "lots": sum(lot.remaining for lot in state.points.lots),
    }
