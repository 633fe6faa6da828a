"""The families' DynamoDB halves, put together for the core store: each family's `storage` module
(`Family.storage`) declares what it adds, and `infra/dynamo_store.py` knows none of them by name.

- `Storage`: a class whose methods the store gains (the family's reads and staff writes);
- `WRITERS`: side-write type -> `writer(tx, write, record)`, adding the write to an event's one transaction
  (`infra.transactions.Transaction`);
- `HOLDINGS`: pynamodb model -> (holding name, convert(item)): the family's items in a member's partition, read by
  the member Query into `MemberState.holdings[name]`;
- `PERSONAL_COPIES`: finders `(brand_id, member_id) -> [(pk, sk)]` of items outside the member's partitions that
  copy personal data (`rules.erasure.PERSONAL_ATTRIBUTES` names): erasing the member strips them there too;
- `ON_ERASURE`: `(brand_id, member_id) -> None`, run when a member is erased (and again on a repeated erasure, so
  idempotent): what the family lists the member in elsewhere (a segment's member list and its counts) goes.

Importing the modules also registers the families' item classes with the table's polymorphic model, before any
Query needs to decode them.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from rules.family import families


def _modules() -> list[Any]:
    return families().modules("storage")


def mixins() -> tuple[type, ...]:
    return tuple(module.Storage for module in _modules() if hasattr(module, "Storage"))


# Built once per loaded set of families: every member load and every event commit reads them.
_built: dict[int, tuple[Any, dict, dict]] = {}


def _tables() -> tuple[dict, dict]:
    loaded = families()
    cached = _built.get(id(loaded))
    if cached is None or cached[0] is not loaded:
        modules = loaded.modules("storage")
        cached = (loaded,
                  {kind: writer for m in modules for kind, writer in getattr(m, "WRITERS", {}).items()},
                  {model: reader for m in modules for model, reader in getattr(m, "HOLDINGS", {}).items()})
        _built[id(loaded)] = cached
    return cached[1], cached[2]


def writers() -> dict[type, Callable[..., None]]:
    return _tables()[0]


def holdings() -> dict[type, tuple[str, Callable[[Any], Any]]]:
    return _tables()[1]


def personal_copies() -> list[Callable[[str, str], Iterable[tuple[str, str]]]]:
    return [finder for module in _modules() for finder in getattr(module, "PERSONAL_COPIES", ())]


def on_erasure() -> list[Callable[[str, str], None]]:
    return [hook for module in _modules() for hook in getattr(module, "ON_ERASURE", ())]
