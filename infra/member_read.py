"""A member's state Query without pynamodb's per-call and per-item bookkeeping (issue 15, engine CPU).

Every event reads its member with one strongly consistent Query of the member's state partition (`load_member`):
about twenty items, most of them lots. Through `SiyuItem.query` each call built and serialised its key condition
and filter again, and each item became a model object that `load_member` then read back into a `Lot` or a
profile. Here:

- `query`: the same Query request (the same parameters in the same order, so the same bytes), from a template that
  pynamodb serialises once per shape of the conditions (`shape`); each call fills in only its own values (the
  partition key, a request's sort keys, the TTL cut-off). Paged as pynamodb's `ResultIterator` pages (the next
  request starts at `LastEvaluatedKey`); errors wrapped as pynamodb's `Connection.query` wraps them (`QueryError`).
  The answer is the raw items (DynamoDB's attribute maps).
- `lot`: a lot's raw item decoded straight into the `Lot` `load_member` builds, with the same decoders as
  `item_codec.from_raw_data`. A lot that is not in the shape the store writes (a NULL, a missing value, a number
  that is not an integer) is answered None and goes the model's way, so its errors stay the model's. (The profile
  is read as `item_codec.attribute_values`, without the object; `load_member`'s `_kind_plan` says which kind goes
  which way.)
- `marker`: a marker's key and data the same way (its time and TTL still decoded, so that what the model refuses
  goes the model's way and is refused there).

`tests/integration/test_member_read.py` proves both against pynamodb's own path (the former `load_member`, kept
there as the reference): the requests sent are equal byte for byte (captured at `Connection.dispatch`), pages and
errors included, and `load_member` returns the state the model path returned, for every kind of item, every way a
member is loaded and cut-offs before and after the markers' TTLs. `tests/unit/test_item_codec.py` compares the
date and cut-off shortcuts with pynamodb's attributes.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, NamedTuple

from pynamodb.connection.base import BOTOCORE_EXCEPTIONS
from pynamodb.constants import QUERY
from pynamodb.exceptions import QueryError
from pynamodb.expressions.operand import Path

from infra import item_codec, keys, table
from infra.models import MarkerItem, SiyuItem
from rules.ledger import Lot

# Stand-ins for a call's own values while a shape's template is serialised: they are found again in the
# template's values and replaced per call. Nothing a member's Query names can equal them (a NUL is never in a key).
_PK = "\x00pk"
_REQUEST = "\x00request"
_AS_OF = datetime(2999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
# Which of a call's own values a placeholder takes: the partition key, the named request's sort keys (as written
# now and by earlier versions), the TTL cut-off.
PK, REQUEST, LEGACY_REQUEST, CUT_OFF = range(4)


class _Template(NamedTuple):
    kinds: Any  # the kinds' filter it was made with (`item_codec.kinds_condition`: new when a family registers)
    key_condition: str
    filter: str | None
    names: dict[str, str]
    values: dict[str, Any]
    slots: tuple[tuple[str, int], ...]  # (placeholder, which of the call's own values)


_templates: dict[tuple, _Template] = {}
Conditions = Callable[[str | None, datetime | None], tuple[Any, Any]]


def _template(conditions: Conditions, request_key: str | None, as_of: datetime | None, kinds: Any) -> _Template:
    """Serialise a shape's conditions as pynamodb's `Model.query` and `Connection.query` do, with the stand-ins."""
    range_condition, filter_condition = conditions(None if request_key is None else _REQUEST,
                                                   None if as_of is None else _AS_OF)
    if kinds is not None:
        filter_condition &= kinds
    hash_keyname = SiyuItem._get_connection().connection.get_meta_table(SiyuItem.Meta.table_name).hash_keyname
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    key_condition = Path([hash_keyname]) == {"S": _PK}
    if range_condition is not None:
        key_condition &= range_condition
    key_text = key_condition.serialize(names, values)
    filter_text = filter_condition.serialize(names, values) if filter_condition is not None else None
    own = {("S", _PK): PK, ("S", keys.request_sk(_REQUEST)): REQUEST,
           ("S", keys.legacy_request_sk(_REQUEST)): LEGACY_REQUEST, ("N", SiyuItem.ttl.serialize(_AS_OF)): CUT_OFF}
    slots = tuple((placeholder, own[wire, text]) for placeholder, value in values.items()
                  for wire, text in value.items() if isinstance(text, str) and (wire, text) in own)
    return _Template(kinds, key_text, filter_text, {v: k for k, v in names.items()}, values, slots)


def query(shape: Any, conditions: Conditions, pk: str, *, request_key: str | None = None,
          as_of: datetime | None = None, consistent_read: bool) -> list[dict[str, Any]]:
    """The raw items `SiyuItem.query(pk, range_condition, filter_condition, consistent_read=...)` would read, by
    the same requests, where `conditions(request_key, as_of)` gives that range condition and filter: the same
    conditions for the same `shape`, whatever the partition, the request key and the cut-off."""
    kinds = item_codec.kinds_condition(SiyuItem)
    key = (shape, request_key is not None, as_of is not None)
    template = _templates.get(key)
    if template is None or template.kinds is not kinds:
        template = _template(conditions, request_key, as_of, kinds)
        if len(_templates) < 64:
            _templates[key] = template
    values = dict(template.values)
    for placeholder, which in template.slots:
        if which == PK:
            values[placeholder] = {"S": pk}
        elif which == CUT_OFF:
            values[placeholder] = {"N": cut_off(as_of)}
        else:
            values[placeholder] = {"S": (keys.request_sk if which == REQUEST else keys.legacy_request_sk)(request_key)}
    connection = SiyuItem._get_connection()
    items: list[dict[str, Any]] = []
    start = None
    while True:
        # The parameters in the order pynamodb's `Connection.query` puts them (botocore serialises them in order),
        # each map made afresh as pynamodb makes them per request.
        kwargs: dict[str, Any] = {"TableName": connection.table_name, "KeyConditionExpression": template.key_condition}
        if template.filter is not None:
            kwargs["FilterExpression"] = template.filter
        if consistent_read:
            kwargs["ConsistentRead"] = True
        if start:
            kwargs["ExclusiveStartKey"] = start
        if template.names:
            kwargs["ExpressionAttributeNames"] = dict(template.names)
        if values:
            # The fixed values' maps are the template's own: botocore only reads a request's parameters. The first
            # request takes the map made above for this call (a later page's request, a copy of it).
            kwargs["ExpressionAttributeValues"] = dict(values) if start else values
        try:
            answer = connection.connection.dispatch(QUERY, kwargs)
        except BOTOCORE_EXCEPTIONS as e:
            raise QueryError("Failed to query items: {}".format(e), e)
        items += answer.get("Items") or ()
        start = answer.get("LastEvaluatedKey")
        if start is None:
            return items


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)


def cut_off(as_of: datetime) -> str:
    """`SiyuItem.ttl.serialize(as_of)` (the whole seconds since the epoch, as text), by arithmetic for an aware
    datetime; anything else through the attribute (which refuses naive datetimes)."""
    if as_of.__class__ is datetime and as_of.utcoffset() is not None:
        return str((as_of - _EPOCH) // _SECOND)
    return SiyuItem.ttl.serialize(as_of)


# ---- raw items ----------------------------------------------------------------------------------------------------

_number = item_codec.number
_date = item_codec.parse_utc
_from_iso = datetime.fromisoformat
_DUE_PK = table.DUE_PK


_LOT_FIELDS = tuple(f.name for f in dataclasses.fields(Lot))
# `Lot` is a frozen dataclass: its `__init__` sets each field through `object.__setattr__`, which costs more than
# the rest of a lot's decoding. The same instance is its fields in its `__dict__`; only while `Lot` has nothing else
# to do on construction (no `__post_init__`, no slots, the fields as read here), else through `Lot(...)`.
_FILL_LOTS = (not hasattr(Lot, "__post_init__") and "__slots__" not in vars(Lot)
              and _LOT_FIELDS == ("lot_id", "earned", "remaining", "earned_at", "expires_at", "source", "listed"))
_new = object.__new__


def lot(raw: dict[str, Any]) -> Lot | None:
    """A lot item as `load_member` reads it from a `LotItem` (`attribute_values`: the attributes' own decoders),
    or None when the item is not in the shape the store writes (the model path then decodes it, errors and all)."""
    try:
        source = raw.get("source")
        due = raw.get(_DUE_PK)
        # The common forms decoded in place (a plain integer without a leading zero; a date in the form pynamodb
        # writes, `item_codec.parse_utc`'s test), anything else by the codec's decoders. A date the C parser
        # refuses raises ValueError here, and the lot goes the model's way, which refuses it as pynamodb does.
        earned, remaining = raw["earned"]["N"], raw["remaining"]["N"]
        earned_at, expires_at = raw["earned_at"]["S"], raw["expires_at"]["S"]
        values = (raw["lot_id"]["S"],
                  int(earned) if earned.isascii() and earned.isdigit() and earned[0] != "0" else int(_number(earned)),
                  int(remaining) if remaining.isascii() and remaining.isdigit() and remaining[0] != "0"
                  else int(_number(remaining)),
                  _from_iso(earned_at) if earned_at.__class__ is str and len(earned_at) == 31
                  and earned_at[4:20:3] == "--T::." and earned_at[26:] == "+0000" else _date(earned_at),
                  _from_iso(expires_at) if expires_at.__class__ is str and len(expires_at) == 31
                  and expires_at[4:20:3] == "--T::." and expires_at[26:] == "+0000" else _date(expires_at),
                  None if source is None else source["S"], due is not None and due["S"] is not None)
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    if not _FILL_LOTS:
        return Lot(*values)
    made = _new(Lot)
    fields = made.__dict__
    (fields["lot_id"], fields["earned"], fields["remaining"], fields["earned_at"], fields["expires_at"],
     fields["source"], fields["listed"]) = values
    return made


class WireMarker(NamedTuple):
    """A marker item as `load_member` reads it: its sort key (a whole load's sweep reads the order it names), its
    key and its data as `MarkerItem` gives them (`item.data or {}`)."""

    sk: str
    key: str
    data: Any


# The attributes the store writes on a marker (the model's others, and any it does not know, go the model's way).
_MARKER_SHAPE = frozenset(("pk", "sk", "type", "key", "at", "ttl", "data"))
_marker_data = MarkerItem.get_attributes()["data"].deserialize
_ttl = item_codec.ttl


def _check_ttl(text: Any) -> None:
    """Raise where `item_codec.ttl(text)` (the model's decoding) raises. A plain count of seconds of at most ten
    digits (before the year 2286) is one the model decodes: checked without making its datetime (`fromtimestamp`
    with a time zone, the dearest step of a marker's read, for a value `load_member` does not use)."""
    if not (text.__class__ is str and len(text) <= 10 and text.isascii() and text.isdigit()
            and (text[0] != "0" or len(text) == 1)):
        _ttl(text)


def marker(raw: dict[str, Any]) -> WireMarker | None:
    """A marker item as `load_member` reads it from a `MarkerItem`, or None when the item is not in the shape the
    store writes (the model path then decodes it, errors and all). What it does not use (its time, its TTL) is
    still decoded as the model decodes it, so that an item the model would refuse is left to the model."""
    if not raw.keys() <= _MARKER_SHAPE:
        return None
    try:
        at = raw["at"]["S"]
        if not (at.__class__ is str and len(at) == 31 and at[4:20:3] == "--T::." and at[26:] == "+0000"):
            return None
        _from_iso(at)
        ttl = raw.get("ttl")
        if ttl is not None:
            _check_ttl(ttl["N"])
        data = raw.get("data")
        return WireMarker(raw["sk"]["S"], raw["key"]["S"], (None if data is None else _marker_data(data["S"])) or {})
    except Exception:  # noqa: BLE001 - anything unusual is the model's to read (and to refuse) as it did
        return None
