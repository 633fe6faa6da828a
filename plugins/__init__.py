"""The rule families this deployment runs, in order: one folder each, one line here (rules/family.py).

Adding a family is a folder `plugins/<name>/` whose `__init__.py` declares `FAMILY`, and its line below."""

FAMILIES = (
    "plugins.points",
    "plugins.tiers",
    "plugins.expiry",
    "plugins.coupons",
    "plugins.referral",
    "plugins.crisis",
    "plugins.segments",
    "plugins.insights",
)
