"""Items read from DynamoDB made into pynamodb objects with a plan computed once per item class.

pynamodb builds each object it reads through its attribute descriptors: defaults set twice, every value stored with
a `setattr` that looks the attribute's name up again. On a member's Query that bookkeeping costs more CPU than the
values themselves (issue 15, `bench/cpu.py`). This does the same steps as pynamodb's `Model.from_raw_data` (the
class from the discriminator, the read defaults, each present non-NULL value through the attribute's own
`get_value` and `deserialize`) and fills the object's `attribute_values` directly. The objects are pynamodb's own:
saving, updating and reading attributes work as before. `tests/unit/test_item_codec.py` compares both ways.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

import dataclasses
import json

from pynamodb.attributes import Attribute, NumberAttribute, TTLAttribute, UTCDateTimeAttribute
from pynamodb.constants import NULL
from pynamodb.exceptions import AttributeDeserializationError
from pynamodb.expressions.condition import Condition

# Per stored name: (python name, the wire type to take the value from or None for the attribute's own `get_value`,
# the decoder or None where the attribute stores the wire value as it is).
Spec = tuple[str, Any, Any]
Plan = tuple[dict[str, Any], tuple[tuple[str, Callable], ...], dict[str, Spec]]

_plans: dict[type, Plan] = {}
_discriminators: dict[type, Any] = {}
_UNSET = object()


def _number(text: str) -> Any:
    # `NumberAttribute.deserialize` is `json.loads`; a plain non-negative integer without a leading zero (what
    # DynamoDB returns for balances, versions, points) parses to the same int, without the JSON decoder's machinery.
    if text.isdigit() and text.isascii() and (text[0] != "0" or len(text) == 1):
        return int(text)
    return json.loads(text)


number = _number  # for the raw readers (infra/member_read.py): the same decoding as a NumberAttribute read here

_pynamodb_utc = UTCDateTimeAttribute._fast_parse_utc_date_string
_from_iso = datetime.fromisoformat


def parse_utc(text: str) -> datetime:
    """`UTCDateTimeAttribute.deserialize`: a member's Query brings two dates per lot. Text in exactly the form
    pynamodb writes (`2026-03-01T02:00:00.000000+0000`) goes through the C parser (a sixth of the time; the same
    datetime, in `timezone.utc`); anything else, or anything it refuses, through pynamodb's own parser."""
    # (`text[4:20:3]`: the characters at 4, 7, 10, 13, 16 and 19, checked in one comparison.)
    if text.__class__ is str and len(text) == 31 and text[4:20:3] == "--T::." and text[26:] == "+0000":
        try:
            return _from_iso(text)
        except ValueError:
            pass
    return _pynamodb_utc(text)


_from_timestamp = datetime.fromtimestamp
_UTC = timezone.utc


def ttl(text: str) -> datetime:
    """`TTLAttribute.deserialize` (`json.loads`, then the UTC datetime of that timestamp): nearly every item a
    member's Query brings has a TTL; its whole seconds parse as `_number` parses them."""
    return _from_timestamp(_number(text), tz=_UTC)


def _spec(name: str, attr: Any) -> Spec:
    kind = type(attr)
    wire = attr.attr_type if kind.get_value is Attribute.get_value else None
    if kind.deserialize is Attribute.deserialize:
        decode = None
    elif kind.deserialize is NumberAttribute.deserialize:
        decode = _number
    elif kind.deserialize is UTCDateTimeAttribute.deserialize:
        decode = parse_utc
    elif kind.deserialize is TTLAttribute.deserialize:
        decode = ttl
    else:
        decode = attr.deserialize
    return (name, wire, decode) if wire is not None else (name, attr.get_value, decode)


def _plan(cls: type) -> Plan:
    plan = _plans.get(cls)
    if plan is None:
        fixed: dict[str, Any] = {}  # the discriminator and the read defaults that are plain values
        made: list[tuple[str, Callable]] = []  # read defaults made per object (`default=dict`)
        by_stored_name: dict[str, Spec] = {}
        discriminator = cls._get_discriminator_attribute()
        if discriminator is not None and discriminator.get_discriminator(cls) is not None:
            fixed[cls._discriminator] = cls
        for name, attr in cls.get_attributes().items():
            if callable(attr.default):
                made.append((name, attr.default))
            elif attr.default is not None:
                fixed[name] = attr.default
            by_stored_name[attr.attr_name] = _spec(name, attr)
        plan = _plans[cls] = (fixed, tuple(made), by_stored_name)
    return plan


def discriminator_of(cls: type) -> Any:
    """`cls._get_discriminator_attribute()`, looked up once per class: the attribute is made with the class
    (registering a kind adds to its class map, it does not replace it), and every member Query asked for it."""
    discriminator = _discriminators.get(cls, _UNSET)
    if discriminator is _UNSET:
        discriminator = _discriminators[cls] = cls._get_discriminator_attribute()
    return discriminator


def from_raw_data(cls: type, data: dict[str, dict[str, Any]]) -> Any:
    """What `cls.from_raw_data(data)` returns in pynamodb 6, built with fewer steps."""
    if data is None:
        raise ValueError("Received no data to construct object")
    discriminator = discriminator_of(cls)
    stored = None
    if discriminator is not None:  # as pynamodb's `_get_discriminator_class`
        raw_kind = data.get(discriminator.attr_name)
        if raw_kind:
            stored = discriminator.deserialize(discriminator.get_value(raw_kind))
    if stored is not None and not issubclass(stored, cls):
        raise ValueError(f"Cannot instantiate a {cls.__name__} from the returned class: {stored.__name__}")
    return made(stored or cls, data)


def made(target: type, data: dict[str, dict[str, Any]]) -> Any:
    """The `target` item `from_raw_data` makes of `data` once it has read which class `data` is."""
    item = object.__new__(target)
    item.attribute_values = attribute_values(target, data)
    return item


def attribute_values(target: type, data: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The `attribute_values` of a `target` read from `data` (`from_raw_data` once the class is known)."""
    fixed, made, by_stored_name = _plan(target)
    values = dict(fixed)
    for name, default in made:
        value = default()
        if value is not None:
            values[name] = value
    # The values present (an item holds a few of its class's attributes): each as its attribute's `get_value` and
    # `deserialize` would (the plain steps of pynamodb's base attribute, numbers and dates done in place).
    spec_of = by_stored_name.get
    for stored_name, raw in data.items():
        spec = spec_of(stored_name)
        if spec is not None and raw and NULL not in raw:
            name, wire, decode = spec
            if wire.__class__ is str:
                if wire not in raw:
                    raise AttributeDeserializationError(stored_name, wire)
                value = raw[wire]
            else:
                value = wire(raw)
            values[name] = value if decode is None else decode(value)
    return values


# ---- domain objects -------------------------------------------------------------------------------------------------

def filler(cls: type, names: tuple[str, ...]) -> Callable[[Any], Any]:
    """A maker of `cls(**dict(zip(names, values)))` from `values`. A frozen dataclass's `__init__` stores each field
    through `object.__setattr__` (a call per field, more than a read decodes for most of them); the same instance
    is its fields in its `__dict__`, so where `cls` is a dataclass whose generated `__init__` only stores `names`,
    its fields in that order (no `__post_init__`, no slots, every field an `__init__` argument), the maker fills
    the `__dict__` of a new instance in that order. Otherwise it calls `cls`."""
    fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
    init = vars(cls).get("__init__")
    plain = (tuple(f.name for f in fields) == names and all(f.init for f in fields)
             and not hasattr(cls, "__post_init__") and "__slots__" not in vars(cls)
             and getattr(getattr(init, "__code__", None), "co_filename", None) == "<string>")  # dataclass-made
    if not plain:
        return lambda values: cls(**dict(zip(names, values)))
    new = object.__new__

    def fill(values: Any) -> Any:
        made = new(cls)
        made.__dict__.update(zip(names, values))
        return made

    return fill


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


def remembered(condition: Condition) -> Condition:
    """`condition`, serialised once per state of the placeholders before it (for the fixed parts of a Query's
    filter, built once at import): the same text, names and values as `condition.serialize` gives."""
    return _Remembered(condition)


def kinds_condition(cls: type) -> Any:
    """pynamodb's filter on the item kinds a class covers (`type IN (...)`: for the base class, every kind), built
    once per class and set of registered kinds instead of on every Query. Conditions are not changed by use."""
    attribute = discriminator_of(cls)
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


# ---- objects made to be written ------------------------------------------------------------------------------------

# Per class: the discriminator (python name, class) or None, the defaults of a new object (name, value or callable),
# and each attribute's way in: None (stored as given) or the attribute's own `__set__` (TTL, discriminator... cast).
_New = tuple[Any, tuple[tuple[str, Any], ...], dict[str, Any]]
_new_plans: dict[type, _New] = {}


def _new_plan(cls: type) -> _New:
    plan = _new_plans.get(cls)
    if plan is None:
        discriminator = cls._get_discriminator_attribute()
        tag = (cls._discriminator, cls) if discriminator is not None and \
            discriminator.get_discriminator(cls) is not None else None
        defaults, setters = [], {}
        for name, attr in cls.get_attributes().items():
            default = attr.default_for_new if attr.default_for_new is not None else attr.default
            if default is not None:
                defaults.append((name, default))
            setters[name] = None if type(attr).__set__ is Attribute.__set__ else attr
        plan = _new_plans[cls] = (tag, tuple(defaults), setters)
    return plan


def init(item: Any, hash_key: Any, range_key: Any, attributes: dict[str, Any]) -> None:
    """What pynamodb 6's `Model.__init__(hash_key, range_key, **attributes)` does for a new object, from a plan:
    the discriminator, the defaults, then each given value (through its attribute's `__set__` where it has one)."""
    cls = type(item)
    tag, defaults, setters = _new_plan(cls)
    if hash_key is not None:
        if cls._hash_keyname is None:
            raise ValueError(f"This model has no hash key, but a hash key value was provided: {hash_key}")
        attributes[cls._hash_keyname] = hash_key
    if range_key is not None:
        if cls._range_keyname is None:
            raise ValueError(f"This model has no range key, but a range key value was provided: {range_key}")
        attributes[cls._range_keyname] = range_key
    values: dict[str, Any] = {}
    item.attribute_values = values
    if tag is not None:
        values[tag[0]] = tag[1]
    for name, default in defaults:
        value = default() if callable(default) else default
        if value is not None:
            _store(item, values, setters[name], name, value)
    for name, value in attributes.items():
        setter = setters.get(name, _UNSET)
        if setter is None:
            values[name] = value
        elif setter is _UNSET:
            raise ValueError("Attribute {} specified does not exist".format(name))
        else:
            setter.__set__(item, value)


def _store(item: Any, values: dict[str, Any], attribute: Any, name: str, value: Any) -> None:
    if attribute is None:
        values[name] = value
    else:
        attribute.__set__(item, value)
