"""Points expiry: lots written off when they fall due (the daily sweep), with reminders ahead of time."""

from plugins.expiry.messages import MESSAGES
from rules.family import Family

FAMILY = Family(name="expiry", plugins=("plugins.expiry.plugin",), messages=MESSAGES,
                follow_ups=frozenset({"points.expiring", "points.expired"}))
