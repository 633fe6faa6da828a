"""Property test: random sequences of earn, redeem, adjust, reverse and expiry sweeps, with repeated idempotency
keys and a moving "now", against the real store. After every step:

- the stored balance == the sum of ledger entries == the sum of lot remainders;
- a repeated key returns the first result for 30 days, and is a new request after that;
- every lot holds what an independent, straightforward model says, and what can be spent excludes every lot
  past its expiry;
- no balance or lot is ever negative.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from rules import points
from rules.errors import EntryNotReversible, IdempotencyKeyReused, InsufficientPoints
from tests.helpers import register

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
KEY_MEMORY = timedelta(days=30)  # how long an idempotency key is remembered
KEYS = st.sampled_from([f"key-{i}" for i in range(6)]) | st.uuids().map(str)


@dataclass
class ModelLot:
    remaining: int
    expires_at: datetime
    earned_at: datetime


@dataclass
class ModelEntry:
    kind: str
    allocations: dict[str, int]  # lot id -> signed points
    reversed: bool = False


@dataclass
class Model:
    """What the ledger should hold, computed the plain way."""

    lots: dict[str, ModelLot] = field(default_factory=dict)
    entries: dict[str, ModelEntry] = field(default_factory=dict)
    requests: dict[str, tuple] = field(default_factory=dict)  # key -> (signature, result, when)

    def spendable_lots(self, now):
        usable = [(lid, lot) for lid, lot in self.lots.items() if lot.remaining > 0 and lot.expires_at > now]
        return sorted(usable, key=lambda pair: (pair[1].expires_at, pair[1].earned_at, pair[0]))

    def spendable(self, now) -> int:
        return sum(lot.remaining for _, lot in self.spendable_lots(now))

    def add(self, entry_id, amount, now, expires_at, kind):
        self.lots[entry_id] = ModelLot(amount, expires_at, now)
        self.entries[entry_id] = ModelEntry(kind, {entry_id: amount})

    def spend(self, entry_id, amount, now, kind):
        allocations, left = {}, amount
        for lid, lot in self.spendable_lots(now):
            take = min(lot.remaining, left)
            lot.remaining -= take
            allocations[lid] = -take
            left -= take
            if not left:
                break
        self.entries[entry_id] = ModelEntry(kind, allocations)

    def reversible(self, entry: ModelEntry) -> bool:
        if entry.reversed or entry.kind in ("reverse", "expire"):
            return False
        return all(self.lots[lid].remaining >= pts for lid, pts in entry.allocations.items() if pts > 0)

    def reverse(self, entry: ModelEntry, now):
        entry.reversed = True
        for lid, pts in entry.allocations.items():
            lot = self.lots[lid]
            if pts > 0:
                lot.remaining -= pts
            elif lot.expires_at > now:  # points put back on an expired lot expire again at once
                lot.remaining -= pts

    def expire(self, now):
        for lot in self.lots.values():
            if lot.expires_at <= now:
                lot.remaining = 0


class LedgerMachine(RuleBasedStateMachine):
    store = None
    brand_id = None

    @initialize()
    def new_member(self):
        self.member = register(self.store, self.brand_id, T0)
        self.now = T0
        self.model = Model()

    def _keyed(self, key, signature, call, on_success):
        """Run a keyed operation and check it against the model's record of that key (kept 30 days)."""
        seen = self.model.requests.get(key)
        if seen is not None and self.now >= seen[2] + KEY_MEMORY:
            seen = None
            del self.model.requests[key]
        try:
            result = call()
        except IdempotencyKeyReused:
            assert seen is not None and seen[0] != signature
            return
        if seen is not None:
            assert seen[0] == signature, "a different request under a used key must be refused"
            assert result.replayed and result.entry_id == seen[1].entry_id and result.points == seen[1].points
            return
        assert not result.replayed
        self.model.requests[key] = (signature, result, self.now)
        on_success(result)
        assert result.balance == self.model.spendable(self.now)

    @rule(days=st.integers(0, 12), hours=st.integers(0, 23))
    def time_passes(self, days, hours):
        self.now += timedelta(days=days, hours=hours)

    @rule(amount=st.integers(1, 400), validity=st.integers(1, 60), key=KEYS)
    def earn(self, amount, validity, key):
        expires_at = self.now + timedelta(days=validity)
        self._keyed(key, ("earn", amount, expires_at),
                    lambda: points.earn(self.store, self.brand_id, self.member, points=amount, now=self.now,
                                        expires_at=expires_at, idempotency_key=key),
                    lambda r: self.model.add(r.entry_id, amount, self.now, expires_at, "earn"))

    @rule(amount=st.integers(1, 600), key=KEYS)
    def redeem(self, amount, key):
        signature = ("redeem", amount)
        available = self.model.spendable(self.now)
        try:
            self._keyed(key, signature,
                        lambda: points.redeem(self.store, self.brand_id, self.member, points=amount, now=self.now,
                                              idempotency_key=key),
                        lambda r: self.model.spend(r.entry_id, amount, self.now, "redeem"))
        except InsufficientPoints as short:
            assert key not in self.model.requests
            assert amount > available and short.available == available

    @rule(amount=st.integers(-300, 300).filter(bool), key=KEYS)
    def staff_adjusts(self, amount, key):
        # The request is the amount and reason; "now" (and so the new lot's expiry) is not part of it.
        signature = ("adjust", amount)
        available = self.model.spendable(self.now)

        def apply(result):
            if amount > 0:
                self.model.add(result.entry_id, amount, self.now, self.now + timedelta(days=30), "adjust")
            else:
                self.model.spend(result.entry_id, -amount, self.now, "adjust")

        try:
            self._keyed(key, signature,
                        lambda: points.adjust(self.store, self.brand_id, self.member, points=amount,
                                              reason="property test", now=self.now, validity_days=30,
                                              idempotency_key=key),
                        apply)
        except InsufficientPoints:
            assert -amount > available

    @rule(data=st.data())
    def staff_reverses(self, data):
        if not self.model.entries:
            return
        entry_id = data.draw(st.sampled_from(list(self.model.entries)))
        entry = self.model.entries[entry_id]
        expected = self.model.reversible(entry)
        key = str(uuid.uuid4())
        try:
            result = points.reverse(self.store, self.brand_id, self.member, entry_id=entry_id, now=self.now,
                                    idempotency_key=key)
        except EntryNotReversible:
            assert not expected
            return
        assert expected
        self.model.reverse(entry, self.now)
        self.model.entries[result.entry_id] = ModelEntry("reverse", {})
        assert result.balance == self.model.spendable(self.now)

    @rule()
    def expiry_sweep(self):
        result = points.expire_due(self.store, self.brand_id, self.member, now=self.now)
        self.model.expire(self.now)
        if result is not None and not result.replayed:
            self.model.entries[result.entry_id] = ModelEntry("expire", {})

    @invariant()
    def balance_entries_and_lots_agree(self):
        if not hasattr(self, "member"):
            return
        state = self.store.load_member(self.brand_id, self.member)
        entries = self.store.entries(self.brand_id, self.member)
        assert state.points.balance == sum(e.points for e in entries) == sum(l.remaining for l in state.points.lots)
        assert all(lot.remaining >= 0 for lot in state.points.lots)
        assert state.points.balance >= 0
        assert state.points.spendable(self.now) == self.model.spendable(self.now)
        # Lot by lot, not just in total: points must come out of the lots that expire first.
        stored = {lot.lot_id: lot.remaining for lot in state.points.lots}
        expected = {lot_id: lot.remaining for lot_id, lot in self.model.lots.items() if lot.remaining > 0}
        assert stored == expected
        assert all(not lot.expired(self.now) for lot in state.points.spendable_lots(self.now))


def test_random_ledger_histories_keep_balance_entries_and_lots_in_agreement(store, brand_id):
    LedgerMachine.store = store
    LedgerMachine.brand_id = brand_id
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]),
    )
