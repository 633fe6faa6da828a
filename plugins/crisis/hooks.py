"""The crisis family's own hooks (added to the plugin manager by its `Family.hookspecs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.hookspecs import Effects, hookspec

if TYPE_CHECKING:
    from rules.context import RuleContext
    from rules.events import BusinessEvent, SweepEvent


@hookspec
def siyu_feedback_received(event: "BusinessEvent", context: "RuleContext") -> Effects:
    """Feedback arrived (complaint, review, refund reason, chat), with optional `rating`, `sentiment`, `topic`.

    `context.member` is None when the feedback names no member.
    """


@hookspec
def siyu_alerts_due(sweep: "SweepEvent", context: "RuleContext") -> Effects:
    """The hourly alert sweep reached a brand with an open alert past its response deadline.

    `sweep` is a `rules.events.SweepEvent`; `context.now` is its time; `context.member` is None;
    `context.extras["alerts"]` (a `plugins.crisis.model.AlertsView`) holds the brand's unresolved alerts. Return effects such
    as `plugins.crisis.model.EscalateAlert` with an `alert.escalated` follow-up. Called once per brand per sweep, however
    many times the sweep event is delivered.
    """
