"""Segments: lifecycle stages, RFM value layers and groups, and personas, kept per member and changed on events
and on time (through the due index); journeys that start when a member enters a segment."""

from plugins.segments import backfill, model
from plugins.segments.effects import SegmentState
from plugins.segments.messages import MESSAGES
from rules.family import Family, Sweep

FAMILY = Family(
    name="segments",
    plugins=("plugins.segments.plugin",),
    hookspecs="plugins.segments.hooks",
    follow_ups=frozenset({"segment.entered", "segment.left", "lifecycle.changed"}),
    loaders={model.LINE: model.load_distribution, model.HISTORY: model.load_history},
    planners={model.UpdateSegments: model.plan_update, model.SetValueLine: model.plan_value_line},
    effects=(model.UpdateSegments, model.SetValueLine),
    # Each brand's high-value line (the top 20% by 12-month net spend), drawn daily from its spend distribution.
    sweeps=(Sweep(model.VALUE_LINE_SWEEP, resource="value-line-sweep", hook="siyu_value_line_due",
                  targets=model.brands_with_segments),
            # Staff's backfill when the family is turned on for a brand with members: fanned out, never scheduled.
            Sweep(backfill.BACKFILL, resource="segments-backfill-job", hook="siyu_segments_backfill",
                  targets=backfill.targets, counts="members", coordinate=backfill.coordinate)),
    shared_holdings={"segment_state": SegmentState},
    messages=MESSAGES,
    storage="plugins.segments.storage",
    graphql="plugins.segments.graphql",
    kpis="plugins.segments.kpis",
    demo_params={"segments": {"journeys": [
        {"id": "win-back", "segment": "STAGE_DORMANT", "couponTemplateId": "bgy-100-20", "notify": "win_back",
         "cooldownDays": 90},
    ]}},
)
