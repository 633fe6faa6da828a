"""An event's ledger entries kept in its history item (rules/entry_codec.py) come back exactly as posted, whatever
the effects stored beside them already say."""

from datetime import datetime, timedelta, timezone

from rules import entry_codec
from rules.ids import entry_id, time_key
from rules.ledger import Allocation, Entry, EntryKind

AT = datetime(2026, 3, 1, 12, 30, tzinfo=timezone.utc)
AWARD = {"plugin": "points", "version": "1.0.0", "effect": "AwardPoints", "rule": "points-per-yuan",
         "inputs": {"orderId": "o1", "eligibleFen": 12900}, "points": 129, "reason": "order o1"}


def test_an_award_keeps_only_what_its_effect_does_not_say_and_comes_back_whole():
    earned = entry_id(AT, "ev-1")
    award = Entry(earned, AT, EntryKind.EARN, 129, (Allocation(earned, AT + timedelta(days=365), 129),),
                  reason="order o1", actor="plugin:points@1.0.0", event_id="ev-1",
                  explanation={k: AWARD[k] for k in ("plugin", "version", "rule", "inputs")})
    rows = entry_codec.encode([award], AT, "ev-1", [AWARD])
    assert set(rows[0]) == {"k", "p", "i", "a", "f"}  # no reason, actor, explanation, event id or time again
    assert entry_codec.decode(entry_codec.unpack(entry_codec.pack(rows)), AT, "ev-1", [AWARD]) == (award,)


def test_an_entry_that_says_something_else_than_the_effects_keeps_it():
    taken = Entry(f"{time_key(AT - timedelta(minutes=1))}-abc", AT - timedelta(minutes=1), EntryKind.ADJUST, -40,
                  (Allocation("lot-7", AT + timedelta(days=9), -40),), reason=None, actor="staff:s1",
                  reverses="e-9", event_id="ev-other", explanation={"note": "by hand"})
    rows = entry_codec.encode([taken], AT, "ev-1", [AWARD])
    assert entry_codec.decode(rows, AT, "ev-1", [AWARD]) == (taken,)


def _effects(n: int) -> bytes:
    import json

    return json.dumps([dict(AWARD, points=k, inputs={"orderId": f"o-{k * 7919}", "eligibleFen": 100 * k})
                       for k in range(n)], separators=(",", ":"), ensure_ascii=False).encode()


def test_packed_effects_are_no_larger_than_zlibs_default_and_read_back_by_any_zlib_reader():
    import zlib

    for n in (1, 3, 10, 40, 200):  # a few hundred bytes to some 40 KB of effects
        data = _effects(n)
        packed = entry_codec.deflate(data)
        assert zlib.decompress(packed) == data  # the reader the store has always used
        assert len(packed) <= len(zlib.compress(data, 9))  # a write unit is 1 KB: the smaller window costs nothing
    blob_from_before = zlib.compress(_effects(3), 9)
    assert entry_codec.unpack(blob_from_before) == entry_codec.unpack(entry_codec.deflate(_effects(3)))


def test_the_item_attribute_packs_as_the_entries_do():
    from infra.models import PackedJSONAttribute

    value = [AWARD, {"effect": "GiveCoupon", "名称": "满100减10"}]
    attribute = PackedJSONAttribute()
    assert attribute.serialize(value) == entry_codec.pack(value)
    assert attribute.deserialize(attribute.serialize(value)) == value


def test_entries_are_encoded_as_they_were_before_the_effects_were_compared_field_by_field():
    """`encode` finds the effect that explains an entry without building each effect's explanation; the rows are
    those of the encoding as e373a10 wrote it (tests/wire_reference.py), for matches found first, late, never, on
    an explanation with more or fewer fields, on effects that are not a plugin's, on the same object or equal ones."""
    from types import MappingProxyType

    from tests.wire_reference import encode_as_before

    nan = float("nan")
    said = {k: AWARD[k] for k in ("plugin", "version", "rule", "inputs")}
    effects = ["not a dict", {"effect": "Once"}, {"plugin": "tiers", "version": "1.3.0", "rule": "g", "inputs": {}},
               dict(AWARD, rule="another rule"), dict(AWARD, version="0.9"), dict(AWARD, plugin="coupons"),
               dict(AWARD, inputs={"orderId": "o2"}),
               dict(AWARD), {"plugin": "points", "rule": "odd", "inputs": nan},
               {"plugin": "points", "version": None, "rule": "odd", "inputs": [1]}, dict(AWARD, reason="other")]
    explanations = [None, {}, said, dict(said), MappingProxyType(said), dict(said, extra=1),
                    {k: said[k] for k in ("plugin", "version", "rule")}, {"plugin": "points", "version": None,
                                                                         "rule": "odd", "inputs": nan},
                    {"plugin": "points", "version": None, "rule": "odd", "inputs": float("nan")},
                    {"plugin": "points", "version": None, "rule": "odd", "inputs": [1]},
                    {"plugin": "tiers", "version": "1.3.0", "rule": "g", "inputs": {}}, {"note": "by hand"}]
    earned = entry_id(AT, "ev-1")
    for explanation in explanations:
        for reason, actor in ((None, None), ("order o1", "plugin:points@1.0.0"), ("other", "plugin:points@None")):
            entries = [Entry(earned, AT, EntryKind.EARN, 129, (Allocation(earned, AT + timedelta(days=365), 129),),
                             reason=reason, actor=actor, event_id="ev-1", explanation=explanation),
                       Entry("x-1", AT - timedelta(minutes=1), EntryKind.REVERSE, 5,
                             (Allocation("lot-2", AT + timedelta(days=9), 5),), reason=reason, actor=actor,
                             reverses="e-9", event_id="ev-other", explanation=explanation)]
            for given in (effects, effects[7:], effects[:3], [], tuple(effects)):
                assert entry_codec.encode(entries, AT, "ev-1", given) == encode_as_before(entries, AT, "ev-1", given)


def test_a_packed_value_is_the_compact_json_dumps_of_it_deflated():
    """`models.packed` hands a list or a dict to the C encoder directly (issue 15): the same text as
    `json.dumps(value, separators=(",", ":"), ensure_ascii=False)` (the encoder it replaced, kept here), on unusual
    values too, and the same errors where that refuses one."""
    import json
    import math
    from enum import IntEnum

    import pytest

    from infra.models import packed

    def as_before(value):
        return entry_codec.deflate(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())

    class Level(IntEnum):
        GOLD = 3

    class Tagged(dict):
        pass

    values = [[], {}, [AWARD], {"名称": "满100减10", "emoji": "\U0001f600", "ctl": "a\n\"b\"\\\x00"},
              [None, True, False, 0, -1, 10 ** 30, 1.5, -0.0, 1e300, math.inf, -math.inf, math.nan],
              {"t": (1, 2), "l": [[[]]], "d": {"e": {}}}, [Level.GOLD], Tagged(a=1), {1: "int key", None: 2,
                                                                                    True: 3, 2.5: 4},
              "a text", 7, None, (1, 2), Tagged()]
    for value in values:
        assert packed(value) == as_before(value), value
    loop: list = []
    loop.append(loop)
    for refused in ([object()], {"a": {1, 2}}, {(1, 2): 3}, loop, {"d": [b"bytes"]}):
        with pytest.raises(Exception) as theirs:
            as_before(refused)
        with pytest.raises(type(theirs.value)) as ours:
            packed(refused)
        assert str(ours.value) == str(theirs.value)
    assert packed(["after an error"]) == as_before(["after an error"])  # nothing left over from a refusal
