"""Brand KPIs: per brand and brand-local day, counted off the event path from the table's change stream
(DynamoDB Streams -> events/stream.py -> this family's aggregator), as sharded day counters staff read with
`insights(from:, to:)`. What each item contributes is declared by the family that owns it (`Family.kpis`).

The stage distribution is the extension point left open: a family that keeps lifecycle stages (the `segments`
family) declares `kpis=` with a contribution giving `Count(brand, at, <stage>, -1 / +1, of="stages")` when a
member's stage item changes, and `insights` shows it under `distributions { name: "stages" }` as it shows tiers,
with no change here."""

from plugins.insights.messages import MESSAGES
from rules.family import Family

FAMILY = Family(
    name="insights",
    storage="plugins.insights.storage",
    graphql="plugins.insights.graphql",
    kpis="plugins.insights.kpis",
    messages=MESSAGES,
)
