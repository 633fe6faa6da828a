"""Segments: lifecycle stages, RFM value layers and groups, and personas, kept per member and changed on events
and on time (through the due index); journeys that start when a member enters a segment."""

from plugins.segments import model
from plugins.segments.effects import SegmentState
from plugins.segments.messages import MESSAGES
from rules.family import Family

FAMILY = Family(
    name="segments",
    plugins=("plugins.segments.plugin",),
    follow_ups=frozenset({"segment.entered", "segment.left", "lifecycle.changed"}),
    planners={model.UpdateSegments: model.plan_update},
    effects=(model.UpdateSegments,),
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
