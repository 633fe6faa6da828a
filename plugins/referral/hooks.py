"""The referral family's own hooks (added to the plugin manager by its `Family.hookspecs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.hookspecs import Effects, hookspec

if TYPE_CHECKING:
    from rules.context import RuleContext
    from rules.events import BusinessEvent


@hookspec
def siyu_referral_code_entered(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A member entered an inviter's `referralCode` after registering (the `bindReferralCode` mutation, or a brand
    system). `context.extras["referral"]` holds what the built-in `referral` plugin loaded about the code."""
