"""The DynamoDB side of `rules.extensions`: how each family's side writes become transaction items, and how the
items a family keeps in a member's partition are read back by the member Query.

A family module (e.g. `infra/coupon_store.py`) registers a writer per side-write type and a reader per pynamodb
model; `infra/store.py` knows none of them by name.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from rules.extensions import import_modules

# side-write type -> writer(tx, write, record); tx is infra.dynamo_store._Transaction
WRITERS: dict[type, Callable[..., None]] = {}
# pynamodb model class -> (family name, convert(item) -> domain object)
HOLDING_READERS: dict[type, tuple[str, Callable[[Any], Any]]] = {}
# finder(brand_id, member_id) -> (pk, sk) of items outside the member's own partitions that copy the member's
# personal data (under `rules.erasure.PERSONAL_ATTRIBUTES` names): erasing the member strips those attributes there too
PERSONAL_COPIES: list[Callable[[str, str], Iterable[tuple[str, str]]]] = []

FAMILIES = ("plugins.coupons.storage", "plugins.referral.storage", "plugins.crisis.storage")
_loaded = False


def writer(write_type: type) -> Callable:
    def register(function: Callable) -> Callable:
        WRITERS[write_type] = function
        return function

    return register


def holding(model: type, family: str) -> Callable:
    def register(function: Callable) -> Callable:
        HOLDING_READERS[model] = (family, function)
        return function

    return register


def personal_copies(function: Callable[[str, str], Iterable[tuple[str, str]]]) -> Callable:
    PERSONAL_COPIES.append(function)
    return function


def load_families() -> None:
    global _loaded
    if not _loaded:
        import_modules(FAMILIES)
        _loaded = True
