"""What pynamodb's own `TransactWrite` sends for a `infra.transactions.Transaction`: the reference its commit is held
to, byte for byte (`tests/unit/test_transactions_wire.py`), and a check of every transaction the suite commits
(`tests/conftest.py`: each commit's request is compared with this reference before it is sent).

Items a writer made in their wire form (`infra.transactions.Written`) are held to pynamodb twice: a Put's item is read
back into its model by pynamodb's own `Model.from_raw_data` and sent through `TransactWrite` (the same bytes: the
attributes the model has, in its order, each as its attribute writes it); and a transaction of
`DynamoStore.commit_event` is compared whole with the one its models made before (`commit_event_as_before`, the
method as e373a10 wrote it, every item a pynamodb model), which checks the values too."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from infra import daily_totals, dynamo_store as store, family_storage, keys
from infra.models import (ActivityItem, EntryItem, LotItem, MarkerGroupItem, MarkerItem, MemberItem, OrderItem,
                          ProcessedItem, ReversalItem)
from infra.transactions import Transaction, Written, at, update_actions
from rules.ids import time_key


class Recording:
    """Stands where pynamodb's connection is: keeps what the transaction would send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def transact_write_items(self, **kwargs: Any) -> dict:
        self.sent.append(kwargs)
        return {}


def as_model(item: Written) -> Any:
    """The model pynamodb reads a Put's wire item as (its own `Model.from_raw_data`, not the store's codec)."""
    return Model.from_raw_data.__func__(item.cls, item.wire)


def as_pynamodb_sent_it(tx: Transaction, connection: Any) -> None:
    """The commit before the plans: every item through pynamodb's `TransactWrite` (a Put's `Written` item as the
    model read back from it). An update made whole by its writer (`Written`) cannot be: it is sent as it is, at
    its place (held to the models by `commit_event_as_before`)."""
    whole = [(index, item.wire) for index, (_, item, _, _) in enumerate(tx._updates) if item.__class__ is Written]
    recording = Recording()
    with TransactWrite(connection=recording) as write:
        for _, model, pk, sk, condition in tx._checks:
            write.condition_check(model, pk, sk, condition=condition)
        for _, item, condition in tx._deletes:
            write.delete(item, condition=condition)
        for _, item, condition, return_values in tx._puts:
            write.save(as_model(item) if item.__class__ is Written else item, condition=condition,
                       return_values=return_values)
        for _, item, actions, condition in tx._updates:
            if item.__class__ is not Written:
                write.update(item, actions=update_actions(item, actions), condition=condition)
    sent = recording.sent[0]
    for index, wire in whole:
        sent["update_items"].insert(index, {"TableName": store.SiyuItem.Meta.table_name, **wire})
    connection.transact_write_items(**sent)


def same_bytes(ours: dict, theirs: dict) -> bool:
    """The same request dict, key order included (blobs compared as their repr: bytes on both sides)."""
    return json.dumps(ours, default=repr) == json.dumps(theirs, default=repr)


class Checked:
    """The connection a commit is given, checking the request it is sent against pynamodb's for the same items,
    and, for a transaction of `DynamoStore.commit_event` (`event`: its arguments and the earliest processed-record
    expiry it could give), against the one the models of `commit_event_as_before` make."""

    def __init__(self, connection: Any, tx: Transaction, event: tuple | None = None) -> None:
        self._connection = connection
        self._tx = tx
        self._event = event
        self._reference = Recording()
        try:
            as_pynamodb_sent_it(tx, self._reference)
        except Exception as error:  # pynamodb refuses it: the commit must not send it either
            self._refused: Exception | None = error
        else:
            self._refused = None
        self.checked = 0

    def transact_write_items(self, **kwargs: Any) -> dict:
        assert self._refused is None, f"pynamodb refused this transaction ({self._refused!r}), the commit sent it"
        assert same_bytes(kwargs, self._reference.sent[0]), (kwargs, self._reference.sent[0])
        if self._event is not None:
            record, change, side, earliest = self._event
            before = as_sent_before(kwargs, self._tx, record, change, side, earliest)
            assert same_bytes(kwargs, before), (kwargs, before)
        self.checked += 1
        return self._connection.transact_write_items(**kwargs)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _seconds(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(seconds=1)


def as_sent_before(kwargs: dict, tx: Transaction, record: Any, change: Any, side: tuple,
                   earliest: datetime) -> dict:
    """The request `commit_event_as_before` makes of the same arguments, its processed record expiring when the
    one sent does (the store reads the clock: that expiry is checked to lie between `earliest`, the expiry before
    the commit began, and the expiry now). Its roles are checked to be the transaction's."""
    roles = tx.roles
    sent_ttl = int(kwargs["put_items"][roles.index("event") - len(tx._checks) - len(tx._deletes)]["Item"]["ttl"]["N"])
    latest = store.processed_record_expiry(record.at)
    # Whole seconds by integer arithmetic: a float `timestamp()` rounds 9999-12-30T23:59:59.999999 up a second.
    assert _seconds(earliest) <= sent_ttl <= _seconds(latest), (earliest, sent_ttl, latest)
    reference = commit_event_as_before(record, change, side, datetime.fromtimestamp(sent_ttl, tz=timezone.utc))
    assert reference.roles == roles, (reference.roles, roles)
    recording = Recording()
    as_pynamodb_sent_it(reference, recording)
    return recording.sent[0]


# ---- the store's writes as e373a10 made them: pynamodb models, serialised by pynamodb -----------------------------

def commit_event_as_before(record: Any, change: Any, side: tuple, expiry: datetime) -> Transaction:
    """`DynamoStore.commit_event` as e373a10 wrote it, every item a model (the processed record's TTL given:
    `expiry`, the store's reading of the clock); returns the transaction instead of committing it."""
    tx = Transaction()
    shown = () if change is None else record.effects if record.member_effects is None else record.member_effects
    # The effects are stored once: in the member's history item when it holds them all (the order's item or
    # an activity item, found by `time_sk` in the `byTime` index), which the processed record then names (a
    # duplicate delivery reads them back from there), else in the processed record.
    in_history = bool(shown) and tuple(shown) == tuple(record.effects)
    tx.put("event", ProcessedItem(
        keys.event_pk(record.brand_id, record.event_id), keys.PROCESSED, event_id=record.event_id,
        brand_id=record.brand_id, detail_type=record.detail_type, at=record.at,
        effects=None if in_history else list(record.effects),
        member_id=change.profile.member_id if in_history else None,
        follow_ups=list(record.follow_ups), fingerprint=record.fingerprint, ttl=expiry,
        subject_id=record.member_id, amount_fen=record.amount_fen,
    ), store._NEW[ProcessedItem], return_old=True)
    posting = change.posting if change else None
    if change is not None:
        p = change.profile
        mpk = keys.member_pk(p.brand_id, p.member_id)
        lpk = keys.ledger_pk(p.brand_id, p.member_id)
        # Markers about an order go to the order's item (all of them, due ones too, so that reading it is
        # reading the order); those about visits in one item per event; the others one item each.
        orders: dict[str, dict[str, list]] = {}
        visits: dict[str, list] = {}
        visits_until: datetime | None = None
        alone = []  # the markers of an item each, in the order given (each key's order looked up once)
        for marker in change.markers:
            key, forget_after, data, due_at = marker
            order = keys.marker_order(key)
            if order is not None:
                orders.setdefault(order, {})[key] = [dict(data) or None, forget_after.isoformat()]
                if due_at is not None:
                    alone.append(marker)
            elif due_at is None and keys.is_per_order_marker(key):
                visits[key] = [dict(data) or None, forget_after.isoformat()]
                visits_until = max(visits_until or forget_after, forget_after)
            else:
                alone.append(marker)
        if visits:
            tx.put("conflict", MarkerGroupItem(
                mpk, keys.marker_group_sk(record.at, record.event_id), at=record.at, marks=visits,
                ttl=visits_until), store._NEW[MarkerGroupItem])
        for key, forget_after, data, due_at in alone:
            if key in visits:
                continue
            marker = MarkerItem(mpk, keys.marker_sk(key), key=key, at=record.at, ttl=forget_after,
                                data=dict(data) or None)
            if due_at is not None:
                listed = store._listed_at(due_at, change.due_floor)
                marker.gsi1pk = keys.due_pk(listed, p.member_id)
                marker.gsi1sk = keys.due_sk(listed, "MARK", p.brand_id, p.member_id, key)
            # A marker past its TTL that DynamoDB has not deleted yet may be claimed again.
            tx.put("conflict", marker, store._NEW[MarkerItem] | (at(MarkerItem.ttl) <= record.at))
        # The event's history (effects and ledger entries) goes with the one order it opens, if it opens one;
        # else into an activity item of its own. Either way it carries `t`: the member's history in time order.
        read = dict(change.orders or {})
        entries = list(posting.entries) if posting is not None else []
        home = None
        if shown and len(orders) == 1:
            only = next(iter(orders))
            home = only if not read.get(only, {}).get("history") else None
        history: dict[str, Any] = {}
        if shown:
            history = {"detail_type": record.detail_type, "packed": list(shown),
                       "t": keys.time_sk(record.at, record.event_id),
                       "entries": encode_as_before(entries, record.at, record.event_id, list(shown))
                       if entries else None}
        for order, marks in orders.items():
            history_here = history if order == home else {}
            if order not in read:
                # Not read (the event opens it) or read as missing: put only if still missing.
                until = max(datetime.fromisoformat(f) for _, f in marks.values())
                tx.put("order", OrderItem(lpk, keys.order_sk(order), marks=marks,
                                          ttl=None if history_here else until, **history_here),
                       store._NEW[OrderItem])
                continue
            # Read (strongly consistent) by this event: what it read is a condition through the member's version
            # below (every write of an order's item moves it). Markers forgotten by now are dropped.
            merged = {k: v for k, v in read[order]["marks"].items()
                      if datetime.fromisoformat(v[1]) > record.at}
            merged.update(marks)
            actions = [at(OrderItem.marks).set(merged)]
            if history_here:
                actions += [at(getattr(OrderItem, name)).set(value) for name, value in history_here.items()
                            if value is not None]
                actions.append(at(OrderItem.ttl).remove())
            elif not read[order]["history"]:
                actions.append(at(OrderItem.ttl).set(max(datetime.fromisoformat(v[1]) for v in merged.values())))
            tx.update("conflict", OrderItem(lpk, keys.order_sk(order)), actions, store._ORDER_READ)
        if history and home is None:
            tx.put("conflict", ActivityItem(lpk, keys.activity_sk(record.at, record.event_id), **history,
                                            event_id=record.event_id, at=record.at),
                   store._NEW[ActivityItem])
        if posting is not None:
            posting_writes_as_before(tx, p, posting, change.due_floor, entries=not history)
        daily_totals.add(tx, mpk, change.daily)
        if posting is not None or change.standing is not None or change.totals is not None:
            member, actions, condition = store._member_update(p, posting, change.standing, change.expected_version,
                                                        change.due_floor)
            if change.totals is not None:
                # The totals as the event leaves them, on the version it read: nothing concurrent is lost.
                actions.append(at(MemberItem.totals).set(dict(change.totals)) if change.totals
                               else at(MemberItem.totals).remove())
            tx.update("conflict", member, actions, condition)
        else:
            # Markers, side writes decided on the member (commissions, claw-backs) or nothing at all: what this
            # event read of the member is still the condition of its write, and what it wrote (a refund
            # remembered before its order) changes what the member's next events read, so the version moves.
            # An erased member's version still serialises the family that runs after erasure (referrals).
            tx.update("conflict", MemberItem(mpk, keys.PROFILE), [store._VERSION_UP],
                      store._MEMBER_EXISTS & (at(MemberItem.version) == change.expected_version))
    writers = family_storage.writers()
    for write in side:
        writers[type(write)](tx, write, record)
    return tx


def posting_writes_as_before(tx: Transaction, profile: Any, posting: Any, due_floor: datetime | None = None, *,
                             entries: bool = True) -> None:
    """`infra.dynamo_store.posting_writes` as e373a10 wrote it, every item a model."""
    brand_id, member_id = profile.brand_id, profile.member_id
    mpk = keys.member_pk(brand_id, member_id)
    lpk = keys.ledger_pk(brand_id, member_id)
    for lot in posting.new_lots:
        # Only the lots the posting lists go in the due index (`ledger.listing`: the earliest holding lot, ...):
        # an order for a member who holds an earlier lot writes no index entry.
        listed = store._listed_at(lot.expires_at, due_floor) if posting.lists(lot.lot_id) else None
        tx.put("conflict", LotItem(
            mpk, keys.lot_sk(lot.expires_at, lot.lot_id), brand_id=brand_id, member_id=member_id,
            lot_id=lot.lot_id, earned=lot.earned, remaining=lot.remaining, earned_at=lot.earned_at,
            expires_at=lot.expires_at, source=lot.source,
            gsi1pk=keys.due_pk(listed, member_id) if listed else None,
            gsi1sk=keys.due_sk(listed, "LOT", brand_id, member_id, lot.lot_id) if listed else None,
        ), store._NEW[LotItem])
    written = {lot.lot_id for lot in posting.new_lots} | {update.lot_id for update in posting.lot_updates}
    for lot in posting.listed or ():
        if lot.lot_id in written:
            continue
        # A lot this posting does not otherwise write becomes listed (the next one after a lot it emptied, or the
        # one a reminder looks for next), on the remainder it was planned from: a concurrent redemption that
        # empties (deletes) it meanwhile makes this write fail and be planned again, never recreate it.
        listed = store._listed_at(lot.expires_at, due_floor)
        tx.update("conflict", LotItem(mpk, keys.lot_sk(lot.expires_at, lot.lot_id)),
                  [at(LotItem.gsi1pk).set(keys.due_pk(listed, member_id)),
                   at(LotItem.gsi1sk).set(keys.due_sk(listed, "LOT", brand_id, member_id, lot.lot_id))],
                  at(LotItem.remaining) == lot.remaining)
    for entry in posting.entries if entries else ():
        tx.put("conflict", store._entry_item(lpk, entry), store._NEW[EntryItem])
    if posting.reverses is not None:
        tx.put("reversal", ReversalItem(lpk, keys.reversal_sk(posting.reverses), entry_id=posting.reverses,
                                        reversed_by=posting.entries[0].entry_id), store._NEW[ReversalItem])
    for update in posting.lot_updates:
        lot = LotItem(mpk, keys.lot_sk(update.expires_at, update.lot_id))
        listed = store._listed_at(update.expires_at, due_floor)
        due = [at(LotItem.gsi1pk).set(keys.due_pk(listed, member_id)),
               at(LotItem.gsi1sk).set(keys.due_sk(listed, "LOT", brand_id, member_id, update.lot_id))
               ] if posting.lists(update.lot_id) else []
        # A lot not in the loaded state (None), or loaded empty, was emptied earlier and so deleted (or, stored
        # by an earlier version, kept at 0): a refill brings it back with what the entry names.
        restored = [LotItem.kind.set(LotItem), LotItem.brand_id.set(LotItem.brand_id | brand_id),
                    LotItem.member_id.set(LotItem.member_id | member_id),
                    LotItem.lot_id.set(LotItem.lot_id | update.lot_id),
                    LotItem.earned.set(LotItem.earned | (update.earned or max(update.after_or_delta, 0))),
                    LotItem.earned_at.set(LotItem.earned_at | (update.earned_at or update.expires_at)),
                    LotItem.expires_at.set(LotItem.expires_at | update.expires_at), *due]
        if update.is_exact and update.after_or_delta == 0:
            # An emptied lot leaves the member's state partition (and the due index): every read of the member
            # would pay for it, and the ledger keeps its history (each entry's allocations name the lot).
            tx.delete("conflict", lot, at(LotItem.remaining) == update.before)
        elif update.is_exact and update.before == 0:
            tx.update("conflict", lot, [at(LotItem.remaining).set(update.after_or_delta), *restored],
                      store._NEW[LotItem] | (at(LotItem.remaining) == 0))
        elif update.is_exact:
            # Listed when it becomes the earliest the posting leaves (`ledger.listing`), else the remainder only.
            tx.update("conflict", lot, [at(LotItem.remaining).set(update.after_or_delta),
                                        *(due if posting.listed is not None else [])],
                      at(LotItem.remaining) == update.before)
        else:
            # Refills only raise a remainder, so concurrent ones may both add.
            tx.update("conflict", lot, [at(LotItem.remaining).add(update.after_or_delta), *restored], None)


def encode_as_before(entries: Any, at_: datetime, event_id: str | None, effects: Any = ()) -> list[dict[str, Any]]:
    """`rules.entry_codec.encode` as e373a10 wrote it (each effect's explanation built to compare it)."""
    out = []
    for e in entries:
        stamp = time_key(e.at)
        row: dict[str, Any] = {"k": e.kind.value, "p": e.points}
        if e.entry_id.startswith(stamp + "-"):
            row["i"] = e.entry_id[len(stamp) + 1:]
        else:
            row["I"] = e.entry_id
        if e.at != at_:
            row["t"] = stamp
        if e.allocations:
            row["a"] = [[0 if a.lot_id == e.entry_id else a.lot_id, time_key(a.expires_at), a.points]
                        for a in e.allocations]
        source = _effect_explaining_as_before(e, effects)
        if source is not None:
            row["f"] = source
        reason, actor, explanation = (_said_as_before(effects[source]) if source is not None else (None, None, None))
        for name, value, said in (("r", e.reason, reason), ("c", e.actor, actor), ("v", e.reverses, None)):
            if value != said:
                row[name] = value
        if e.event_id is not None and e.event_id != event_id:
            row["e"] = e.event_id
        if e.explanation and dict(e.explanation) != explanation:
            row["x"] = dict(e.explanation)
        out.append(row)
    return out


def _said_as_before(effect: Any) -> tuple[str | None, str | None, dict | None]:
    if not isinstance(effect, dict) or "plugin" not in effect:
        return None, None, None
    explanation = {"plugin": effect["plugin"], "version": effect.get("version"), "rule": effect.get("rule"),
                   "inputs": effect.get("inputs")}
    return effect.get("reason"), f"plugin:{effect['plugin']}@{effect.get('version')}", explanation


def _effect_explaining_as_before(entry: Any, effects: Any) -> int | None:
    if not entry.explanation:
        return None
    for index, effect in enumerate(effects):
        if _said_as_before(effect)[2] == dict(entry.explanation):
            return index
    return None
