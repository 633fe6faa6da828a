"""Ledger entries as a history item keeps them (issue 15): with the effects of the event that posted them, in one
item under 1 KB. What the item already says is not repeated (its time, its event id), names are one letter, and
the whole is compact JSON deflated. Pure: the store writes and reads it, the brand KPIs decode it off the stream.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime, timezone
from typing import Any

from rules.ids import time_key
from rules.ledger import Allocation, Entry, EntryKind


def encode(entries: tuple[Entry, ...] | list[Entry], at: datetime, event_id: str | None,
           effects: list | tuple = ()) -> list[dict[str, Any]]:
    """`effects`: the described effects stored with the entries (`Decision.describe()`); an entry's explanation
    and reason that an effect already says are kept as that effect's position."""
    out = []
    for e in entries:
        stamp = time_key(e.at)
        row: dict[str, Any] = {"k": e.kind.value, "p": e.points}
        if e.entry_id.startswith(stamp + "-"):
            row["i"] = e.entry_id[len(stamp) + 1:]
        else:
            row["I"] = e.entry_id
        if e.at != at:
            row["t"] = stamp
        if e.allocations:
            # A lot earned by this entry has its id: 0 says so.
            row["a"] = [[0 if a.lot_id == e.entry_id else a.lot_id, time_key(a.expires_at), a.points]
                        for a in e.allocations]
        # The effect whose explanation is the entry's (`_said`), looked for without building each effect's.
        explanation = dict(e.explanation) if e.explanation else None
        source = None
        if explanation is not None and len(explanation) == 4 and "plugin" in explanation \
                and "version" in explanation and "rule" in explanation and "inputs" in explanation:
            for index, effect in enumerate(effects):
                if isinstance(effect, dict) and "plugin" in effect and _same(effect["plugin"], explanation["plugin"]) \
                        and _same(effect.get("version"), explanation["version"]) \
                        and _same(effect.get("rule"), explanation["rule"]) \
                        and _same(effect.get("inputs"), explanation["inputs"]):
                    source = index
                    break
        if source is not None:
            row["f"] = source
            effect = effects[source]
            reason, actor = effect.get("reason"), f"plugin:{effect['plugin']}@{effect.get('version')}"
        else:
            reason = actor = None
        for name, value, said in (("r", e.reason, reason), ("c", e.actor, actor), ("v", e.reverses, None)):
            if value != said:
                row[name] = value
        if e.event_id is not None and e.event_id != event_id:
            row["e"] = e.event_id
        if explanation is not None and source is None:  # an effect's explanation that is the entry's is not kept
            row["x"] = explanation
        out.append(row)
    return out


def _same(said: Any, explained: Any) -> bool:
    # As a value of `_said(effect)[2] == dict(entry.explanation)` compares: the same object, or equal.
    return said is explained or said == explained


def decode(rows: list[dict[str, Any]] | None, at: datetime, event_id: str | None,
           effects: list | tuple = ()) -> tuple[Entry, ...]:
    entries = []
    for row in rows or ():
        when = _parse(row["t"]) if "t" in row else at
        entry_id = row["I"] if "I" in row else f"{time_key(when)}-{row['i']}"
        source = row.get("f")
        reason, actor, explanation = (_said(effects[source]) if source is not None and source < len(effects)
                                      else (None, None, None))
        entries.append(Entry(
            entry_id=entry_id, at=when, kind=EntryKind(row["k"]), points=int(row["p"]),
            allocations=tuple(Allocation(entry_id if lot == 0 else lot, _parse(expires), int(points))
                              for lot, expires, points in row.get("a", ())),
            reason=row.get("r", reason), actor=row.get("c", actor), reverses=row.get("v"),
            event_id=row.get("e", event_id), explanation=row.get("x", explanation)))
    return tuple(entries)


def _said(effect: Any) -> tuple[str | None, str | None, dict | None]:
    """The reason, actor and explanation an entry posted for this described effect would carry."""
    if not isinstance(effect, dict) or "plugin" not in effect:
        return None, None, None
    explanation = {"plugin": effect["plugin"], "version": effect.get("version"), "rule": effect.get("rule"),
                   "inputs": effect.get("inputs")}
    return effect.get("reason"), f"plugin:{effect['plugin']}@{effect.get('version')}", explanation


def pack(value: Any) -> bytes:
    return deflate(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def deflate(data: bytes) -> bytes:
    """zlib at level 9, with a 4 KB window and small hash tables instead of zlib's 32 KB and 64K entries. What is
    packed is a few hundred bytes to a few KB: `zlib.compress` spent most of its time (about 50-100 us, several
    times per event) setting up and clearing the larger tables it never filled, for output no smaller (issue 15,
    `tests/unit/test_entry_codec.py`). Any zlib reader inflates it, the blobs written before included."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 12, 3)
    return packer.compress(data) + packer.flush()


def unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def _parse(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)
