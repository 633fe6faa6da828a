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
from pynamodb.expressions.condition import Condition

Plan = tuple[dict[str, Any], tuple[tuple[str, Callable], ...], dict[str, tuple[str, Callable, Callable]]]

_plans: dict[type, Plan] = {}


def _plan(cls: type) -> Plan:
    plan = _plans.get(cls)
    if plan is None:
        fixed: dict[str, Any] = {}  # the discriminator and the read defaults that are plain values
        made: list[tuple[str, Callable]] = []  # read defaults made per object (`default=dict`)
        by_stored_name: dict[str, tuple[str, Callable, Callable]] = {}
        discriminator = cls._get_discriminator_attribute()
        if discriminator is not None and discriminator.get_discriminator(cls) is not None:
            fixed[cls._discriminator] = cls
        for name, attr in cls.get_attributes().items():
            if callable(attr.default):
                made.append((name, attr.default))
            elif attr.default is not None:
                fixed[name] = attr.default
            by_stored_name[attr.attr_name] = (name, attr.get_value, attr.deserialize)
        plan = _plans[cls] = (fixed, tuple(made), by_stored_name)
    return plan


def from_raw_data(cls: type, data: dict[str, dict[str, Any]]) -> Any:
    """What `cls.from_raw_data(data)` returns in pynamodb 6, built with fewer steps."""
    if data is None:
        raise ValueError("Received no data to construct object")
    stored = cls._get_discriminator_class(data)
    if stored is not None and not issubclass(stored, cls):
        raise ValueError(f"Cannot instantiate a {cls.__name__} from the returned class: {stored.__name__}")
    target = stored or cls
    fixed, made, by_stored_name = _plan(target)
    attribute_values = dict(fixed)
    for name, default in made:
        value = default()
        if value is not None:
            attribute_values[name] = value
    # The values present (an item holds a few of its class's attributes): each through its attribute, as pynamodb.
    for stored_name, raw in data.items():
        spec = by_stored_name.get(stored_name)
        if spec is not None and raw and NULL not in raw:
            attribute_values[spec[0]] = spec[2](spec[1](raw))
    item = object.__new__(target)
    item.attribute_values = attribute_values
    return item


# ---- queries ------------------------------------------------------------------------------------------------------

_kinds: dict[type, tuple[int, Any]] = {}


class _Remembered(Condition):
    """A condition that serialises as the one it wraps, remembering the text and placeholders it added for each
    state of the placeholders before it (a Query's conditions come in a few fixed shapes): the kinds' IN of
    every kind is dozens of values, serialised one by one on every Query before."""

    def __init__(self, inner: Condition) -> None:
        super().__init__(inner.operator, *inner.values)
        self.format_string = inner.format_string
        self._inner = inner
        self._seen: dict[tuple, tuple[str, dict, dict]] = {}

    def serialize(self, placeholder_names: dict[str, str], expression_attribute_values: dict[str, Any]) -> str:
        key = (tuple(placeholder_names.items()), len(expression_attribute_values))
        hit = self._seen.get(key)
        if hit is None:
            names, values = dict(placeholder_names), dict(expression_attribute_values)
            text = self._inner.serialize(names, values)
            hit = (text, {k: v for k, v in names.items() if k not in placeholder_names},
                   {k: v for k, v in values.items() if k not in expression_attribute_values})
            if len(self._seen) < 64:
                self._seen[key] = hit
        text, names, values = hit
        placeholder_names.update(names)
        expression_attribute_values.update({k: dict(v) for k, v in values.items()})
        return text


def kinds_condition(cls: type) -> Any:
    """pynamodb's filter on the item kinds a class covers (`type IN (...)`: for the base class, every kind), built
    once per class and set of registered kinds instead of on every Query. Conditions are not changed by use."""
    attribute = cls._get_discriminator_attribute()
    if attribute is None:
        return None
    known = len(attribute._class_map)
    hit = _kinds.get(cls)
    if hit is None or hit[0] != known:
        hit = _kinds[cls] = (known, _Remembered(attribute.is_in(*attribute.get_registered_subclasses(cls))))
    return hit[1]


def query(cls: type, hash_key: Any, range_key_condition: Any = None, filter_condition: Any = None,
          consistent_read: bool = False, index_name: str | None = None, scan_index_forward: bool | None = None,
          limit: int | None = None, last_evaluated_key: Any = None, attributes_to_get: Any = None,
          page_size: int | None = None, rate_limit: float | None = None) -> Any:
    """What pynamodb 6's `Model.query` does, with the kinds' filter from `kinds_condition`."""
    from pynamodb.pagination import ResultIterator

    if index_name:
        hash_key = cls._indexes[index_name]._hash_key_attribute().serialize(hash_key)
    else:
        hash_key = cls._serialize_keys(hash_key)[0]
    kinds = kinds_condition(cls)
    if kinds is not None:
        filter_condition &= kinds
    if page_size is None:
        page_size = limit
    return ResultIterator(
        cls._get_connection().query, (hash_key,),
        dict(range_key_condition=range_key_condition, filter_condition=filter_condition, index_name=index_name,
             exclusive_start_key=last_evaluated_key, consistent_read=consistent_read,
             scan_index_forward=scan_index_forward, limit=page_size, attributes_to_get=attributes_to_get),
        map_fn=cls.from_raw_data, limit=limit, rate_limit=rate_limit)
