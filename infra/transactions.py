"""One TransactWriteItems, collected item by item with the role of each, so a cancellation reason can be matched
to the item it is about (the processed record: a duplicate; a member: a conflict; a stock counter: sold out)."""

from __future__ import annotations

from typing import Any, Mapping

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from infra.models import SiyuItem


def connection() -> Connection:
    """The low-level connection the table's models use (same region, endpoint and credentials)."""
    return SiyuItem._get_connection().connection

class Transaction:
    """Collects a TransactWriteItems in the order pynamodb sends it (checks, deletes, puts, updates), so each cancellation
    reason can be matched to the role of the item it is about."""

    def __init__(self) -> None:
        self._checks: list[tuple[str, type, str, str, Any]] = []
        self._deletes: list[tuple[str, SiyuItem, Any]] = []
        self._puts: list[tuple[str, SiyuItem, Any, str | None]] = []
        self._updates: list[tuple[str, SiyuItem, list, Any]] = []

    def check(self, role: str, model: type, pk: str, sk: str, condition: Any) -> None:
        self._checks.append((role, model, pk, sk, condition))

    def add(self, item: SiyuItem, *, also_set: Mapping[str, Any] | None = None, **deltas: int | set) -> None:
        """Unconditional ADDs (counters, members of a set): several effects of one event adding to the same item
        become one update, since a transaction may touch an item only once. `also_set` are plain values the
        item should carry (the same whichever effect gives them)."""
        key = (item.pk, item.sk)
        for index, (role, existing, actions, condition) in enumerate(self._updates):
            if (existing.pk, existing.sk) == key and getattr(existing, "_siyu_deltas", None) is not None:
                for name, delta in deltas.items():
                    before = existing._siyu_deltas.get(name)
                    if before is None:
                        existing._siyu_deltas[name] = delta
                    else:
                        existing._siyu_deltas[name] = before | delta if isinstance(delta, set) else before + delta
                existing._siyu_set.update(also_set or {})
                return
        item._siyu_deltas = dict(deltas)
        item._siyu_set = dict(also_set or {})
        self._updates.append(("conflict", item, [], None))

    def delete(self, role: str, item: SiyuItem, condition: Any) -> None:
        self._deletes.append((role, item, condition))

    def put(self, role: str, item: SiyuItem, condition: Any, return_old: bool = False) -> None:
        self._puts.append((role, item, condition, "ALL_OLD" if return_old else None))

    def update(self, role: str, item: SiyuItem, actions: list, condition: Any) -> None:
        self._updates.append((role, item, actions, condition))

    @property
    def roles(self) -> list[str]:
        return ([c[0] for c in self._checks] + [d[0] for d in self._deletes] + [p[0] for p in self._puts]
                + [u[0] for u in self._updates])

    def commit(self, connection: Connection) -> None:
        with TransactWrite(connection=connection) as tx:
            for _, model, pk, sk, condition in self._checks:
                tx.condition_check(model, pk, sk, condition=condition)
            for _, item, condition in self._deletes:
                tx.delete(item, condition=condition)
            for _, item, condition, return_values in self._puts:
                tx.save(item, condition=condition, return_values=return_values)
            for _, item, actions, condition in self._updates:
                deltas = getattr(item, "_siyu_deltas", None)
                if deltas is not None:
                    # The item's own class names its kind: an ADD may be what creates it.
                    actions = [getattr(type(item), name).add(delta) for name, delta in deltas.items()]
                    actions += [getattr(type(item), name).set(value) for name, value in item._siyu_set.items()]
                    actions.append(type(item).kind.set(type(item)))
                tx.update(item, actions=actions, condition=condition)
