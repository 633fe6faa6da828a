"""What pynamodb's own `TransactWrite` sends for a `infra.transactions.Transaction`: the reference its commit is held
to, byte for byte (`tests/unit/test_transactions_wire.py`), and a check of every transaction the suite commits
(`tests/conftest.py`: each commit's request is compared with this reference before it is sent)."""

from __future__ import annotations

import json
from typing import Any

from pynamodb.transactions import TransactWrite

from infra.transactions import Transaction, update_actions


class Recording:
    """Stands where pynamodb's connection is: keeps what the transaction would send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def transact_write_items(self, **kwargs: Any) -> dict:
        self.sent.append(kwargs)
        return {}


def as_pynamodb_sent_it(tx: Transaction, connection: Any) -> None:
    """The commit before the plans: every item through pynamodb's `TransactWrite`."""
    with TransactWrite(connection=connection) as write:
        for _, model, pk, sk, condition in tx._checks:
            write.condition_check(model, pk, sk, condition=condition)
        for _, item, condition in tx._deletes:
            write.delete(item, condition=condition)
        for _, item, condition, return_values in tx._puts:
            write.save(item, condition=condition, return_values=return_values)
        for _, item, actions, condition in tx._updates:
            write.update(item, actions=update_actions(item, actions), condition=condition)


def same_bytes(ours: dict, theirs: dict) -> bool:
    """The same request dict, key order included (blobs compared as their repr: bytes on both sides)."""
    return json.dumps(ours, default=repr) == json.dumps(theirs, default=repr)


class Checked:
    """The connection a commit is given, checking the request it is sent against pynamodb's for the same items."""

    def __init__(self, connection: Any, tx: Transaction) -> None:
        self._connection = connection
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
        self.checked += 1
        return self._connection.transact_write_items(**kwargs)
