"""`points_expiry`: the daily sweep writes off what remains on lots past their expiry.

Lots are never spendable past their expiry whether or not this has run (the ledger derives that); the sweep makes
the stored balance and the ledger say so too, and tells the member with `points.expired`.
"""

from __future__ import annotations

from rules.effects import Emit, ExpirePoints
from rules.hookspecs import hookimpl
from rules.plugins import PluginInfo

NAME = "points_expiry"
VERSION = "1.0.0"

PARAMS_SCHEMA = {"type": "object", "additionalProperties": False, "properties": {}}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=30,
                      description="Writes off expired points in the daily sweep.")


@hookimpl
def siyu_member_due(sweep, context):
    expired = [lot for lot in context.member.points.lots if lot.remaining > 0 and lot.expired(context.now)]
    if not expired:
        return None
    total = sum(lot.remaining for lot in expired)
    inputs = {"lots": [lot.lot_id for lot in expired], "points": total}
    return [ExpirePoints(rule="expired-lots-written-off", inputs=inputs),
            Emit(detail_type="points.expired", rule="expired-lots-written-off", inputs=inputs,
                 detail={"points": total})]
