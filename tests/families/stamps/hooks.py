"""The stamp family's own hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.hookspecs import Effects, hookspec

if TYPE_CHECKING:
    from rules.context import RuleContext
    from rules.events import BusinessEvent


@hookspec
def siyu_stamp_collected(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """A store stamped the member's card (`stamps`, 1-10)."""
