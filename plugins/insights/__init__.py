"""Brand KPIs: per brand and brand-local day, counted off the event path from the table's change stream
(DynamoDB Streams -> events/stream.py -> this family's aggregator), as sharded day counters staff read with
`insights(from:, to:)`. What each item contributes is declared by the family that owns it (`Family.kpis`).

The stage distribution comes from the family that keeps lifecycle stages: the `segments` family's `kpis.py` gives
`Count(brand, since, <stage>, -1 / +1, of="stages")` when a member's segment state item changes stage, and
`insights` shows it under `distributions { name: "stages" }` as it shows tiers (plugins/tiers/kpis.py)."""

from plugins.insights.messages import MESSAGES
from rules.family import Family

FAMILY = Family(
    name="insights",
    storage="plugins.insights.storage",
    graphql="plugins.insights.graphql",
    kpis="plugins.insights.kpis",
    messages=MESSAGES,
)
