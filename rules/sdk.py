"""The plugin SDK: everything a rule plugin imports, from one module (the contract: docs/plugins.md).

    from rules.sdk import AwardPoints, Once, PluginInfo, hookimpl

Tests import `rules.testing.PluginCase`. What lives elsewhere in `rules` is the engine's and may move.

The effects the rule families declare for partners (`IssueCoupon`, `UseCoupon` of the coupons family) are importable
from here too, by name: the SDK finds them in the families this deployment runs, without naming any family.
"""

from rules.context import Decided, MemberView, RuleContext
from rules.effects import (AddGrowth, AddToTotal, AwardPoints, Effect, Emit, ExpirePoints, Note, Once,
                           SetPaidMembership, SetTier, TakeBackPoints)
from rules.events import BusinessEvent, SweepEvent
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo

__all__ = [
    "AddGrowth", "AddToTotal", "AwardPoints", "BusinessEvent", "Decided", "Effect", "Emit", "ExpirePoints", "MemberView", "Note",
    "Once", "PluginInfo", "RuleContext", "SetPaidMembership", "SetTier", "SweepEvent", "TakeBackPoints", "hookimpl",
]


def __getattr__(name: str):
    """A family-declared effect a partner may return (`from rules.sdk import IssueCoupon`)."""
    from rules.wire import partner_effects

    effect = partner_effects().get(name)
    if effect is None:
        raise AttributeError(f"module 'rules.sdk' has no attribute {name!r}")
    return effect
