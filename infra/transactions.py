"""One TransactWriteItems, collected item by item with the role of each, so a cancellation reason can be matched
to the item it is about (the processed record: a duplicate; a member: a conflict; a stock counter: sold out)."""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Mapping

from pynamodb.attributes import (Attribute, JSONAttribute, ListAttribute, MapAttribute, NumberAttribute, TTLAttribute,
                                 UTCDateTimeAttribute)
from pynamodb.connection import Connection
from pynamodb.constants import LIST, MAP, NUMBER
from pynamodb.expressions.condition import (And, BeginsWith, Between, Comparison, Contains, Exists, In, IsType, Not,
                                            NotExists, Or)
from pynamodb.expressions.operand import Path, Value, _Decrement, _IfNotExists, _Increment, _ListAppend, _Size
from pynamodb.expressions.update import AddAction, DeleteAction, RemoveAction, SetAction, Update

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
        if condition is None:  # as pynamodb's `TransactWrite.condition_check`: a check checks something
            raise TypeError("`condition` cannot be None")
        self._checks.append((role, model, pk, sk, condition))

    def add(self, item: SiyuItem, *, also_set: Mapping[str, Any] | None = None, **deltas: int | set) -> None:
        """Unconditional ADDs (counters, members of a set): several effects of one event adding to the same item
        become one update, since a transaction may touch an item only once. `also_set` are plain values the
        item should carry (the same whichever effect gives them)."""
        key = (item.pk, item.sk)
        for index, (role, existing, actions, condition) in enumerate(self._updates):
            if existing.__class__ is Written:  # an update made whole by its writer: never one of these
                continue
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

    def delete(self, role: str, item: SiyuItem, condition: Any = None) -> None:
        self._deletes.append((role, item, condition))

    def put(self, role: str, item: SiyuItem | Written, condition: Any, return_old: bool = False) -> None:
        """A Put of a model item, or of an item already in its wire form (`Written`)."""
        self._puts.append((role, item, condition, "ALL_OLD" if return_old else None))

    def update(self, role: str, item: SiyuItem | Written, actions: list | None, condition: Any) -> None:
        """An Update of a model item with pynamodb actions and condition, or one its writer made whole (a
        `Written` of the operation: `actions` and `condition` are None)."""
        self._updates.append((role, item, actions, condition))

    @property
    def roles(self) -> list[str]:
        return ([c[0] for c in self._checks] + [d[0] for d in self._deletes] + [p[0] for p in self._puts]
                + [u[0] for u in self._updates])

    def commit(self, connection: Connection) -> None:
        """Sent as pynamodb's `TransactWrite` would send it (`tests/unit/test_transactions_wire.py`: the same
        request; tests/conftest.py checks every commit of the suite too), each item's operation built here from a
        per-class plan instead of through the model's descriptors and the connection's generic keyword handling,
        its expressions' text and names remembered per shape (`expressions`) (issue 15, `bench/cpu.py`). The
        request goes through pynamodb's connection as before, so errors (`TransactWriteError`, cancellation
        reasons) are its."""
        table = SiyuItem.Meta.table_name
        checks = [_operation(table, *_class_keys(model, pk, sk), condition=condition)
                  for _, model, pk, sk, condition in self._checks]
        deletes = [_operation(table, *_instance_keys(item), condition=condition)
                   for _, item, condition in self._deletes]
        puts = [_put(table, item, condition, return_values) for _, item, condition, return_values in self._puts]
        updates = []
        for _, item, actions, condition in self._updates:
            if item.__class__ is Written:
                operation = {"TableName": table}
                operation.update(item.wire)
                updates.append(operation)
                continue
            updates.append(_operation(table, *_instance_keys(item), condition=condition,
                                      actions=update_actions(item, actions)))
        connection.transact_write_items(condition_check_items=checks, delete_items=deletes, put_items=puts,
                                        update_items=updates, client_request_token=None,
                                        return_consumed_capacity=None, return_item_collection_metrics=None)


class Written:
    """An item's write in its wire form, made directly by a writer that knows the item's shape instead of through a
    model object serialised attribute by attribute (issue 15: an event's few items, each built and then walked).
    For a Put, `wire` is the item: its attributes' wire values in the order pynamodb's `Model.serialize` gives them,
    keys first (the condition is the Put's, as for a model); for an Update, the whole operation after `TableName`
    (`Key`, expressions, names, values), as `Transaction.commit` would have built it. `cls` is the item's model class.
    tests/conftest.py holds every one to pynamodb: a Put's model read back from its wire form is sent as the same
    bytes, and each `DynamoStore.commit_event` sends what the models it wrote before sent
    (tests/wire_reference.py)."""

    __slots__ = ("cls", "wire")

    def __init__(self, cls: type, wire: dict) -> None:
        self.cls = cls
        self.wire = wire


def update_actions(item: SiyuItem, actions: list) -> list:
    """The update actions an item of the transaction is sent with: `actions` as given, or for an item collected by
    `Transaction.add` its ADDs, its plain SETs and its kind (an ADD may be what creates the item, so the item's own
    class names its kind)."""
    deltas = getattr(item, "_siyu_deltas", None)
    if deltas is None:
        return actions
    # Through each attribute's path made once (`at`: the same actions as the attribute's own `add` and `set`,
    # without a new `Path` and pynamodb's operand checks each; issue 15: a coupon's two counters, a day's totals).
    cls = type(item)
    out = [at(getattr(cls, name)).add(delta) for name, delta in deltas.items()]
    out += [at(getattr(cls, name)).set(value) for name, value in item._siyu_set.items()]
    out.append(_kind_set(cls))
    return out


_kind_sets: dict[type, Any] = {}


def _kind_set(cls: type) -> Any:
    """`cls.kind.set(cls)`, made once per class: the action names only the class's discriminator, and nothing that
    serialises an action changes it (as a condition made once, `fixed`, is shared by every write)."""
    action = _kind_sets.get(cls)
    if action is None:
        action = _kind_sets[cls] = cls.kind.set(cls)
    return action


# ---- the paths of an item's attributes, made once ------------------------------------------------------------------

class _AttributePath(Path):
    """`Path(attribute)`, whose plain values (an int, a str, a datetime) become `Value(value, attribute=attribute)`
    without pynamodb's operand checks: such a value is neither an operand, an attribute nor a map, so pynamodb's
    `_to_operand` makes that same `Value`, whose `__init__` stores `{attr_type: attribute.serialize(value)}` (here
    through `_writer`: the same text)."""

    def _to_operand(self, value: Any) -> Any:
        if value.__class__ in _PLAIN and self._plain:
            made = object.__new__(Value)
            made.attr_type = self.attr_type
            made.values = ({self.attr_type: self._write(value)},)
            return made
        return super()._to_operand(value)

    def set(self, value: Any) -> Any:
        # `Path.set` of a plain value: its `Value` as `_to_operand` makes it, then the `SetAction` (or, for a value
        # that serialises to None, the `RemoveAction`) pynamodb makes of it, without its checks on the way.
        if value.__class__ in _PLAIN and self._plain:
            written = self._write(value)
            if written is None:
                return RemoveAction(self)
            operand = object.__new__(Value)
            operand.attr_type = self.attr_type
            operand.values = ({self.attr_type: written},)
            action = object.__new__(SetAction)
            action.values = (self, operand)
            return action
        return super().set(value)

    def add(self, *values: Any) -> Any:
        # `Path.add` of one int to a number: `AddAction`'s type checks pass for both (a number), so they are skipped.
        if len(values) == 1 and values[0].__class__ is int and self.attr_type == NUMBER and self._plain:
            operand = object.__new__(Value)
            operand.attr_type = NUMBER
            operand.values = ({NUMBER: self._write(values[0])},)
            action = object.__new__(AddAction)
            action.values = (self, operand)
            return action
        return super().add(*values)


_PLAIN = frozenset({int, str, datetime})
_attribute_paths: dict[int, tuple[Any, _AttributePath]] = {}


def at(attribute: Any) -> Path:
    """The path of a model's attribute: `at(MemberItem.balance).add(5)` is `MemberItem.balance.add(5)` (the same
    action, serialised the same), without a new `Path` and pynamodb's operand conversion on every call (issue 15:
    an event's writes make dozens). A path is not changed by use (indexing one copies it), so one per attribute
    serves every write (kept with its attribute, whose id then names only it)."""
    known = _attribute_paths.get(id(attribute))
    if known is None or known[0] is not attribute:
        path = _AttributePath(attribute)
        path._plain = attribute.attr_type not in (LIST, MAP) and not isinstance(attribute, MapAttribute)
        path._write = _writer(attribute)
        path._key = tuple(path.values[0])  # its part of a shape (`_shape`)
        known = _attribute_paths[id(attribute)] = (attribute, path)
    return known[1]


# ---- one item's operation, as pynamodb's `Connection.get_operation_kwargs` builds it ------------------------------

def _as_is(value: Any) -> Any:
    return value


def _number_text(value: Any) -> Any:
    # `NumberAttribute.serialize` is `json.dumps(value)`, which writes an int as `int.__repr__` does.
    return int.__repr__(value) if value.__class__ is int else json.dumps(value)


def _ttl_text(serialize: Callable[[Any], Any], value: Any) -> Any:
    # `TTLAttribute.serialize` is `json.dumps(timegm(_normalize(value).utctimetuple()))`; a value the attribute
    # stored (its `__set__` normalises: UTC, whole seconds) normalises to itself.
    if value.__class__ is datetime and value.tzinfo is timezone.utc and not value.microsecond:
        return int.__repr__((value - _EPOCH) // _SECOND)  # whole seconds since the epoch: `timegm`'s, exactly
    return serialize(value)


def _utc_text(value: Any) -> Any:
    # `UTCDateTimeAttribute.serialize` is `astimezone(utc).strftime("%Y-%m-%dT%H:%M:%S.%f%z").zfill(31)`; a UTC
    # value of a four-digit year is that text with the fields formatted directly (strftime's Python-level %f/%z
    # handling is most of its cost), remembered (`_utc_fields`).
    if value.__class__ is datetime and value.tzinfo is timezone.utc and value.year >= 1000:
        return _utc_fields(value)
    return UTCDateTimeAttribute.serialize(None, value)


@functools.lru_cache(maxsize=256)
def _utc_fields(value: datetime) -> str:
    """The text of a plain UTC datetime of a four-digit year, remembered: an event's items name the same few
    instants (its time as the record's and its lot's, a tier's validity that ends on a day many members share), and
    formatting the seven fields costs more than finding them again. Equal UTC datetimes have the same fields."""
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06d+0000" % (value.year, value.month, value.day, value.hour,
                                                        value.minute, value.second, value.microsecond)


def _json_text(value: Any) -> Any:
    # `JSONAttribute.serialize` is `json.dumps(value)` (None for None); an empty list or dict (an event's follow-ups,
    # mostly) is written without the encoder's set-up.
    if value.__class__ is list or value.__class__ is dict:
        if not value:
            return "[]" if value.__class__ is list else "{}"
    return JSONAttribute.serialize(None, value)


_TTL = TTLAttribute()


_EPOCH, _SECOND = datetime(1970, 1, 1, tzinfo=timezone.utc), timedelta(seconds=1)


def ttl_text(value: Any) -> Any:
    """The wire text of a TTL given to a new item: what `TTLAttribute.__set__` then `serialize` make of it (an
    aware datetime: its Unix time, whole seconds), None for None. A UTC value after 1970 is its whole seconds since
    the epoch, counted directly (`calendar.timegm` of its `utctimetuple` is Python code); anything else goes through
    the attribute."""
    if value.__class__ is datetime and value.tzinfo is timezone.utc and 1971 <= value.year <= 9998:
        return int.__repr__((value - _EPOCH) // _SECOND)
    return _TTL.serialize(_TTL._normalize(value))


# What a new item's attribute holds on the wire, for writers that build an item directly (`Written`): an attribute
# without a `__set__` of its own keeps the value given, so its text is its `serialize` (through `_writer`).
number_text, utc_text, json_text = _number_text, _utc_text, _json_text


def _writer(attribute: Any) -> Callable[..., Any]:
    """The attribute's `serialize`, or the same in fewer steps: pynamodb's base `serialize` gives the value as it
    is (a str: never None, so always written), a number attribute's is `json.dumps`."""
    method = type(attribute).serialize
    if method is Attribute.serialize:
        return _as_is
    if method is NumberAttribute.serialize:
        return _number_text
    if method is JSONAttribute.serialize:
        return _json_text
    if method is UTCDateTimeAttribute.serialize:
        return _utc_text
    if method is TTLAttribute.serialize:
        return functools.partial(_ttl_text, attribute.serialize)
    return attribute.serialize


# Per model class: its key attributes ((python name, stored name, type, serialize) for the hash and range key) and
# every attribute as its serialisation needs it (python name, stored name, type, null, serialize, container, writer).
_Attr = tuple[str, str, str, bool, Callable[..., Any], bool, Callable[..., Any]]
_plans: dict[type, tuple[tuple, tuple, tuple[_Attr, ...]]] = {}


def _plan(cls: type) -> tuple[tuple, tuple, tuple[_Attr, ...]]:
    plan = _plans.get(cls)
    if plan is None:
        if cls._version_attribute_name is not None:  # a version attribute changes the request: pynamodb's own path
            raise NotImplementedError(cls.__name__)
        attrs = cls.get_attributes()
        hash_attr, range_attr = attrs[cls._hash_keyname], attrs.get(cls._range_keyname)
        hash_key = (cls._hash_keyname, hash_attr.attr_name, hash_attr.attr_type, hash_attr.serialize)
        range_key = (cls._range_keyname, range_attr.attr_name, range_attr.attr_type, range_attr.serialize) \
            if range_attr is not None else None
        every = tuple((name, attr.attr_name, attr.attr_type, attr.null, attr.serialize,
                       isinstance(attr, (ListAttribute, MapAttribute)), _writer(attr)) for name, attr in attrs.items())
        plan = _plans[cls] = (hash_key, range_key, every)
    return plan


def _class_keys(cls: type, hash_key: Any, range_key: Any) -> tuple[type, Any, Any]:
    plan_hash, plan_range, _ = _plan(cls)
    return (cls, plan_hash[3](hash_key) if hash_key is not None else None,
            plan_range[3](range_key) if range_key is not None and plan_range is not None else None)


def _instance_keys(item: Any) -> tuple[type, Any, Any]:
    cls = type(item)
    plan_hash, plan_range, _ = _plan(cls)
    values = item.attribute_values
    range_value = values.get(plan_range[0]) if plan_range is not None else None
    return (cls, plan_hash[3](values.get(plan_hash[0])),
            plan_range[3](range_value) if range_value is not None else None)


def _identifier(cls: type, key: str, hash_value: Any, range_value: Any) -> dict:
    plan_hash, plan_range, _ = _plan(cls)
    ids = {plan_hash[1]: {plan_hash[2]: hash_value}}
    if range_value is not None and plan_range is not None:
        ids[plan_range[1]] = {plan_range[2]: range_value}
    return {key: ids}


def _operation(table: str, cls: type, hash_value: Any, range_value: Any, *, condition: Any = None,
               actions: list | None = None, item: dict | None = None, return_values: str | None = None) -> dict:
    kwargs: dict[str, Any] = {"TableName": table}
    kwargs.update(_identifier(cls, "Item" if item is not None else "Key", hash_value, range_value))
    if item:
        kwargs["Item"].update(item)
    if condition is None and actions is None:
        if return_values is not None:
            kwargs["ReturnValuesOnConditionCheckFailure"] = str(return_values).upper()
        return kwargs
    condition_text, update_text, names, values = expressions(condition, actions)
    if condition is not None:
        kwargs["ConditionExpression"] = condition_text
    if return_values is not None:
        kwargs["ReturnValuesOnConditionCheckFailure"] = str(return_values).upper()
    if actions is not None:
        kwargs["UpdateExpression"] = update_text
    if names:
        kwargs["ExpressionAttributeNames"] = names
    if values:
        kwargs["ExpressionAttributeValues"] = values
    return kwargs


# ---- an item's condition and update expressions, remembered per shape -------------------------------------------

# pynamodb serialises an expression node by node on every write: each attribute name through a regular expression
# into its `#n` placeholder, each value into its `:n`, each node's text formatted. An event's writes come in a few
# shapes (the same attributes, operators and actions; only the values differ), and for one shape that text and the
# names are always the same: placeholders are numbered in the order pynamodb meets them, names by first use, values
# one each (never shared). So the text and the names are remembered per shape, and for a write of a known shape only
# its values are collected, in pynamodb's order. A shape is remembered only once pynamodb's own serialisation of it
# gave exactly the values collected, in that order. `tests/unit/test_transactions_wire.py` compares the requests.

_CONDITIONS = frozenset({And, Or, Not, Comparison, Between, In, Exists, NotExists, IsType, BeginsWith, Contains})
_OPERANDS = frozenset({_Size, _Increment, _Decrement, _ListAppend, _IfNotExists})
_CLAUSES = {SetAction: 0, RemoveAction: 1, AddAction: 2, DeleteAction: 3}  # `Update.serialize`'s order
_shapes: dict[tuple, tuple[str | None, str | None, dict[str, str], tuple[str, ...]]] = {}
_SHAPES_KEPT = 4096
_fixed: dict[int, tuple] = {}


class _Unknown(Exception):
    """A node this module does not know the text of (a condition class of its own): pynamodb serialises it."""


def _shape(node: Any, key: list, values: list) -> None:
    """Appends the node's shape to `key` and its values to `values`, in the order `node.serialize` numbers them."""
    cls = node.__class__
    if cls is _AttributePath:
        key.append(node._key)
    elif cls is Path:
        key.append(tuple(node.values[0]))
    elif cls is Value:
        key.append(None)
        values.append(node.values[0])
    elif cls in _CONDITIONS:
        known = _fixed.get(id(node))
        if known is not None and known[0] is node:
            key += known[1]
            values += known[2]
            return
        key += (cls, node.operator, node.format_string, len(node.values))
        _operands(node.values, key, values)
    elif cls in _OPERANDS:
        key += (cls, len(node.values))
        for value in node.values:
            _shape(value, key, values)
    else:
        raise _Unknown(cls)


def _operands(operands: Any, key: list, values: list) -> None:
    """The shape and values of a condition's or an action's operands: a path or a value (most of them) without a
    call of its own, anything else through `_shape`."""
    for value in operands:
        if value.__class__ is _AttributePath:
            key.append(value._key)
        elif value.__class__ is Value:
            key.append(None)
            values.append(value.values[0])
        else:
            _shape(value, key, values)


def fixed(condition: Any) -> Any:
    """`condition`, made once and given to many writes (`attribute_not_exists (#0)`, ...): its shape is taken here
    once, not walked on every write, and a write with no other expression takes its text and names as they are.
    Kept (with the condition, so its id names only it) for good: for module-level conditions only."""
    key: list = []
    found: list = []
    try:
        _shape(condition, key, found)
    except _Unknown:
        return condition
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    text = condition.serialize(names, values)
    if len(values) == len(found) and all(a is b for a, b in zip(values.values(), found)):
        _fixed[id(condition)] = (condition, tuple(key), tuple(found), text, {v: k for k, v in names.items()},
                                 tuple(values))
    return condition


def expressions(condition: Any, actions: list | None) -> tuple[str | None, str | None, dict[str, str], dict]:
    """(condition text, update text, `ExpressionAttributeNames`, `ExpressionAttributeValues`) of one item's write,
    as `condition.serialize` then `Update(*actions).serialize` give them on fresh placeholders."""
    if actions is None and condition is not None:
        known = _fixed.get(id(condition))
        if known is not None and known[0] is condition:
            return known[3], None, dict(known[4]), dict(zip(known[5], known[2]))
    key: list = []
    found: list = []
    try:
        if condition is not None:
            _shape(condition, key, found)
        key.append(...)
        if actions:
            clauses: tuple[list, list, list, list] = ([], [], [], [])
            for action in actions:
                clauses[_CLAUSES[action.__class__]].append(action)
            for clause in clauses:
                key.append(len(clause))
                for action in clause:
                    key.append(action.__class__)
                    _operands(action.values, key, found)
        shape = tuple(key)
        known = _shapes.get(shape)
    except (_Unknown, KeyError):
        known = shape = None
    if known is not None:
        condition_text, update_text, names, placeholders = known
        return condition_text, update_text, dict(names), dict(zip(placeholders, found))
    by_name: dict[str, str] = {}
    values: dict[str, Any] = {}
    condition_text = condition.serialize(by_name, values) if condition is not None else None
    update_text = Update(*actions).serialize(by_name, values) if actions is not None else None
    names = {v: k for k, v in by_name.items()}
    if shape is not None and len(values) == len(found) and len(_shapes) < _SHAPES_KEPT \
            and all(a is b for a, b in zip(values.values(), found)):
        _shapes[shape] = (condition_text, update_text, dict(names), tuple(values))
    return condition_text, update_text, names, values


def _put(table: str, item: Any, condition: Any, return_values: str | None) -> dict:
    """A Put of the whole item: `Model.serialize(null_check=True)`, keys first (a `Written` item is that already)."""
    if item.__class__ is Written:
        kwargs: dict[str, Any] = {"TableName": table, "Item": item.wire}
        if condition is not None:
            condition_text, _, names, values = expressions(condition, None)
            kwargs["ConditionExpression"] = condition_text
            if return_values is not None:
                kwargs["ReturnValuesOnConditionCheckFailure"] = return_values
            if names:
                kwargs["ExpressionAttributeNames"] = names
            if values:
                kwargs["ExpressionAttributeValues"] = values
        elif return_values is not None:
            kwargs["ReturnValuesOnConditionCheckFailure"] = return_values
        return kwargs
    cls = type(item)
    plan_hash, plan_range, every = _plan(cls)
    values = item.attribute_values
    serialized: dict[str, dict[str, Any]] = {}
    for name, stored, kind, null, serialize, container, write in every:
        value = values.get(name)
        if value is None:
            if not null:
                item.serialize(null_check=True)  # raises pynamodb's own AttributeNullError
            continue
        if write is _as_is:
            serialized[stored] = {kind: value}
            continue
        if container:
            if isinstance(value, MapAttribute) and not value.validate(null_check=True):
                raise ValueError(f"Attribute '{name}' is not correctly typed")
            out = serialize(value, null_check=True)
        else:
            out = write(value)
        if out is None:
            if not null:
                item.serialize(null_check=True)
            continue
        serialized[stored] = {kind: out}
    hash_value = serialized.pop(plan_hash[1], {}).get(plan_hash[2])
    range_value = serialized.pop(plan_range[1], {}).get(plan_range[2]) if plan_range is not None else None
    return _operation(table, cls, hash_value, range_value, condition=condition, item=serialized,
                      return_values=return_values)
