"""Growth value, tiers held for calendar months, accelerated upgrades, paid membership and tier benefits."""

from rules.family import Family

FAMILY = Family(name="tiers", plugins=("plugins.tiers.plugin",), follow_ups=frozenset({"tier.changed"}),
                kpis="plugins.tiers.kpis")
