"""Brand KPIs: per brand and brand-local day, counted off the event path from the table's change stream
(DynamoDB Streams -> events/stream.py -> this family's aggregator), as sharded day counters staff read with
`insights(from:, to:)`. What each item contributes is declared by the family that owns it (`Family.kpis`)."""

from plugins.insights.messages import MESSAGES
from rules.family import Family

FAMILY = Family(
    name="insights",
    storage="plugins.insights.storage",
    graphql="plugins.insights.graphql",
    kpis="plugins.insights.kpis",
    messages=MESSAGES,
)
