"""The segments family's own hooks (added to the plugin manager by its `Family.hookspecs`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.hookspecs import Effects, hookspec

if TYPE_CHECKING:
    from rules.context import RuleContext
    from rules.events import SweepEvent


@hookspec
def siyu_value_line_due(sweep: "SweepEvent", context: "RuleContext") -> Effects:
    """The daily line sweep reached a brand running segments: draw its high-value line.

    `context.member` is None; `context.extras["segments_line"]` (a `plugins.segments.model.SpendDistribution`)
    holds the brand's 12-month net spend distribution. Return `plugins.segments.model.SetValueLine`. Called once per
    brand per sweep, however many times the sweep event is delivered.
    """


@hookspec
def siyu_segments_backfill(sweep: "SweepEvent", context: "RuleContext") -> Effects:
    """A backfill job (plugins/segments/backfill.py) reached one of the brand's existing members.

    `context.now` is the job's time; `context.extras["segments_history"]` (a list of
    `plugins.segments.effects.OrderFact`) holds the orders the member's history shows. Called once per member per
    job, however many times its batch is delivered.
    """
