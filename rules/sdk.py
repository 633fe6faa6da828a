"""The plugin SDK: everything a rule plugin imports, from one module (the contract: docs/plugins.md).

    from rules.sdk import AwardPoints, Once, PluginInfo, hookimpl

Tests import `rules.testing.PluginCase`. What lives elsewhere in `rules` is the engine's and may move.
"""

from rules.context import Decided, MemberView, RuleContext
from rules.effects import (AddGrowth, AwardPoints, Effect, Emit, ExpirePoints, IssueCoupon, Note, Once,
                           SetPaidMembership, SetTier, TakeBackPoints, UseCoupon)
from rules.events import BusinessEvent, SweepEvent
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo

__all__ = [
    "AddGrowth", "AwardPoints", "BusinessEvent", "Decided", "Effect", "Emit", "ExpirePoints", "IssueCoupon",
    "MemberView", "Note", "Once", "PluginInfo", "RuleContext", "SetPaidMembership", "SetTier", "SweepEvent",
    "TakeBackPoints", "UseCoupon", "hookimpl",
]
