"""Growth value, tiers held for calendar months, accelerated upgrades, paid membership and tier benefits."""

from plugins.tiers.messages import MESSAGES
from rules.family import Family

FAMILY = Family(name="tiers", plugins=("plugins.tiers.plugin",), messages=MESSAGES,
                follow_ups=frozenset({"tier.changed"}), kpis="plugins.tiers.kpis")
