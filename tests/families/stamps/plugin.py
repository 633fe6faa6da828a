"""The stamp rule: stamps as the event says; a full card is announced."""

from __future__ import annotations

from rules.effects import Emit
from rules.hookspecs import hookimpl
from rules.plugin_info import PluginInfo
from tests.families.stamps.model import CARD_SIZE, CollectStamps


@hookimpl
def siyu_plugin_info() -> PluginInfo:
    return PluginInfo(name="stamps", version="1.0.0", params_schema={"type": "object"})


@hookimpl
def siyu_stamp_collected(event, context):
    before = sum(context.member.holdings.get("stamps", ()))
    stamps = event.get("stamps")
    yield CollectStamps(stamps=stamps, rule="stamp-per-visit", inputs={"stamps": stamps})
    if before < CARD_SIZE <= before + stamps:
        yield Emit(detail_type="stamp.card_full", detail={"stamps": before + stamps}, rule="card-full",
                   inputs={"before": before})
