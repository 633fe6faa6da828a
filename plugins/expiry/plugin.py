"""`points_expiry`: when earned points expire, reminders before they do, and writing them off after.

Lots are never spendable past their expiry whether or not the sweep has run (the ledger derives that); the daily
sweep makes the stored balance and the ledger say so too, and tells the member with `points.expired`.

Parameters (presets from DOMAIN.md 3.3, item 14):
- `policy` ("rolling"): "rolling" expires each lot `days` after it was earned; "endOfPeriod" expires everything
  earned in a calendar `period` ("year" or "quarter", brand-local) at the end of the `periodsAfter`-th period
  after it (1: points earned in 2026 expire when 2027 ends).
- `days` (365), `period` ("year"), `periodsAfter` (1).
- `remindDaysBefore` (30; one of 1, 3, 7, 14, 30): `points.expiring` goes out once per member and expiry date, this
  many days ahead, and only for points still there to spend. 0 turns reminders off. The reminder also asks for a
  `notification.requested` (kind `points_expiring`) to the member; the engine sends it only if the member consented
  to marketing messages (rules/consent.py).
- `expiringRedemption` ({"withinDays": 30, "costPercent": 50}; null turns it off): points about to expire buy
  more (item 14's 5折): when a member pays with points (`payWithPoints`), the points taken from lots expiring
  within `withinDays` of the payment cost `costPercent`% of the usual rate, so at 50 each is worth twice as much.
"""

from __future__ import annotations

from datetime import timedelta

from rules.effects import Emit, ExpirePoints, Once
from rules.hookspecs import hookimpl
from rules.ledger import MAX_LOTS_PER_POSTING
from rules.plugin_manager import PluginInfo

NAME = "points_expiry"
VERSION = "1.2.0"
# Reminder offsets a brand can choose from; the daily sweep looks at exactly these days ahead (not every day in
# between), so reminders cost a few index Queries a day.
REMINDER_OFFSETS = (1, 3, 7, 14, 30)

PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "policy": {"enum": ["rolling", "endOfPeriod"], "default": "rolling"},
        "days": {"type": "integer", "minimum": 1, "maximum": 3660, "default": 365},
        "period": {"enum": ["year", "quarter"], "default": "year"},
        "periodsAfter": {"type": "integer", "minimum": 0, "maximum": 10, "default": 1},
        "remindDaysBefore": {"enum": [0, *REMINDER_OFFSETS], "default": 30},
        "expiringRedemption": {
            "type": ["object", "null"], "additionalProperties": False,
            "required": ["withinDays", "costPercent"],
            "properties": {"withinDays": {"type": "integer", "minimum": 1, "maximum": 365},
                           "costPercent": {"type": "integer", "minimum": 1, "maximum": 100}},
            "default": {"withinDays": 30, "costPercent": 50},
        },
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=30, due_offsets_days=REMINDER_OFFSETS,
                      due_offsets=reminder_offsets,
                      description="Expiry policy for earned points, reminders before expiry, write-off after.")


def reminder_offsets(params):
    """The one day ahead a brand's reminders look at (none when they are off)."""
    ahead = params.get("remindDaysBefore", PARAMS_SCHEMA["properties"]["remindDaysBefore"]["default"])
    return (ahead,) if ahead else ()


@hookimpl
def siyu_member_due(sweep, context):
    lots = [lot for lot in context.member.points.lots if lot.remaining > 0]
    # Oldest first and no more than one posting holds, as the ledger writes them off: the announcement says exactly
    # what this write-off took; the sweep calls back at once for the rest (rules/engine.py `sweep_member`).
    expired = sorted((lot for lot in lots if lot.expired(context.now)),
                     key=lambda lot: (lot.expires_at, lot.lot_id))[:MAX_LOTS_PER_POSTING]
    if expired:
        total = sum(lot.remaining for lot in expired)
        inputs = {"lots": [lot.lot_id for lot in expired], "points": total}
        yield ExpirePoints(rule="expired-lots-written-off", inputs=inputs)
        yield Emit(detail_type="points.expired", rule="expired-lots-written-off", inputs=inputs,
                   detail={"points": total})
    ahead = context.params["remindDaysBefore"]
    if not ahead:
        return
    horizon = context.now + timedelta(days=ahead)
    by_day: dict[str, int] = {}
    for lot in lots:
        if context.now < lot.expires_at <= horizon:
            day = context.local_date(lot.expires_at).isoformat()
            by_day[day] = by_day.get(day, 0) + lot.remaining
    for day, points in sorted(by_day.items()):
        key = f"{NAME}:reminded:{day}"
        if context.member.has(key):
            continue
        inputs = {"expiresOn": day, "points": points, "remindDaysBefore": ahead}
        yield Once(key=key, rule="remind-before-expiry", inputs=inputs, keep_days=ahead + 7)
        yield Emit(detail_type="points.expiring", rule="remind-before-expiry", inputs=inputs,
                   detail={"points": points, "expiresOn": day})
        yield Emit(detail_type="notification.requested", rule="remind-before-expiry", inputs=inputs,
                   detail={"kind": "points_expiring", "points": points, "expiresOn": day})
