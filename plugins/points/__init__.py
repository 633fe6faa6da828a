"""Points for what members do: orders (with tier, birthday and anniversary multipliers), check-ins, engagement,
and refunds that take back exactly what an order earned. The ledger itself is the engine's (rules/ledger.py)."""

from plugins.points.messages import MESSAGES
from rules.family import Family

FAMILY = Family(name="points", plugins=("plugins.points.plugin",), messages=MESSAGES)
