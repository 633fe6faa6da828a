"""Items read from DynamoDB made into pynamodb objects with a plan computed once per item class.

pynamodb builds each object it reads through its attribute descriptors: defaults set twice, every value stored with
a `setattr` that looks the attribute's name up again. On a member's Query that bookkeeping costs more CPU than the
values themselves (issue 15, `bench/cpu.py`). This does the same steps as pynamodb's `Model.from_raw_data` (the
class from the discriminator, the read defaults, each present non-NULL value through the attribute's own
`get_value` and `deserialize`) and fills the object's `attribute_values` directly. The objects are pynamodb's own:
saving, updating and reading attributes work as before. `tests/unit/test_item_codec.py` compares both ways.
"""

from __future__ import annotations

from typing import Any, Callable

from pynamodb.constants import NULL

Plan = tuple[tuple[tuple[str, Any], ...], tuple[tuple[str, str, Callable, Callable], ...], str | None]

_plans: dict[type, Plan] = {}


def _plan(cls: type) -> Plan:
    plan = _plans.get(cls)
    if plan is None:
        defaults = []
        values = []
        for name, attr in cls.get_attributes().items():
            if attr.default is not None:
                defaults.append((name, attr.default))
            values.append((name, attr.attr_name, attr.get_value, attr.deserialize))
        discriminator = cls._discriminator if cls._get_discriminator_attribute() is not None \
            and cls._get_discriminator_attribute().get_discriminator(cls) is not None else None
        plan = _plans[cls] = (tuple(defaults), tuple(values), discriminator)
    return plan


def from_raw_data(cls: type, data: dict[str, dict[str, Any]]) -> Any:
    """What `cls.from_raw_data(data)` returns in pynamodb 6, built with fewer steps."""
    if data is None:
        raise ValueError("Received no data to construct object")
    stored = cls._get_discriminator_class(data)
    if stored is not None and not issubclass(stored, cls):
        raise ValueError(f"Cannot instantiate a {cls.__name__} from the returned class: {stored.__name__}")
    target = stored or cls
    defaults, values, discriminator = _plan(target)
    attribute_values: dict[str, Any] = {}
    if discriminator is not None:
        attribute_values[discriminator] = target
    for name, default in defaults:
        value = default() if callable(default) else default
        if value is not None:
            attribute_values[name] = value
    for name, attr_name, get_value, deserialize in values:
        raw = data.get(attr_name)
        if raw and NULL not in raw:
            attribute_values[name] = deserialize(get_value(raw))
    item = object.__new__(target)
    item.attribute_values = attribute_values
    return item
