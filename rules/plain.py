"""Making plain frozen dataclasses without their per-field `object.__setattr__` calls (issue 15, engine CPU).

A frozen dataclass's `__init__` sets each field through `object.__setattr__` (its own `__setattr__` refuses),
about a tenth of a microsecond a field; the engine makes a few dozen such objects per event (decisions, the
ledger's lots, entries and postings, the member's view). `maker(cls)` answers a function `make(*values)`, one
value per field in the class's order, that leaves the same object `cls(*values)` does (the same type and instance
dictionary, keys in field order) by giving the new instance its dictionary at once. It does so only for a class
whose `__init__` is nothing more than that: a dataclass made with `frozen=True` and its generated `__init__`, no
`__post_init__`, no `__slots__`, no `InitVar` or `init=False` field, no `__new__` of its own. For anything else
the answer is `cls` itself, so the caller is never wrong, only slower.
tests/unit/test_plain_makers.py compares both ways for every class the engine makes this way.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

_set = object.__setattr__
_new = object.__new__


def maker(cls: type) -> Callable[..., Any]:
    """`cls` itself, or a function equal to calling it with every field given positionally, in order."""
    if not plain(cls):
        return cls
    names = [f.name for f in dataclasses.fields(cls)]
    args = ", ".join(f"v{i}" for i in range(len(names)))
    body = ", ".join(f"{name!r}: v{i}" for i, name in enumerate(names))
    namespace: dict[str, Any] = {"_cls": cls, "_new": _new, "_set": _set}
    # What dataclasses itself does for __init__: source made from the field names, compiled once per class.
    exec(f"def make({args}):\n    obj = _new(_cls)\n    _set(obj, '__dict__', {{{body}}})\n    return obj\n",
         namespace)
    make = namespace["make"]
    make.__qualname__ = f"maker({cls.__name__})"
    return make


def plain(cls: type) -> bool:
    """Whether `cls(*values)` only stores each value under its field's name (see the module's docstring)."""
    params = cls.__dict__.get("__dataclass_params__")
    if params is None or not params.frozen or not params.init:
        return False
    if hasattr(cls, "__post_init__") or "__slots__" in cls.__dict__ or cls.__new__ is not object.__new__:
        return False
    init = cls.__dict__.get("__init__")
    if (init is None or getattr(init, "__qualname__", "") != f"{cls.__qualname__}.__init__"
            or getattr(getattr(init, "__code__", None), "co_filename", "") != "<string>"):
        return False  # an __init__ written by hand, not the one dataclasses generated
    all_fields = getattr(cls, dataclasses._FIELDS, {})  # type: ignore[attr-defined]
    if any(f._field_type is not dataclasses._FIELD for f in all_fields.values()):  # type: ignore[attr-defined]
        return False  # an InitVar (or a ClassVar, harmless, but left to the class)
    return all(f.init for f in dataclasses.fields(cls))
