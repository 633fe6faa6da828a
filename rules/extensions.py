"""How a rule family reaches beyond the member an event is about.

The engine's core path loads one member and writes one member. Coupons draw on a brand-wide stock, crisis alerts
count feedback per brand and channel, commissions land on the inviter rather than the buyer. Those families plug
in here, without special paths in the engine:

- a **context loader** reads what the family's plugins need to decide (stock left, open alerts, the referrer) and
  hands it to every plugin as `context.extras[name]`; it may return None when the event is none of its business;
- a **side-write planner** turns one effect type into domain-level writes (`rules.persistence.SideWrite`) that the store
  commits in the same transaction as the event's processed record, so they too happen exactly once; a condition
  that fails there (stock gone, an alert opened meanwhile) makes the engine evaluate the event again on fresh state.

Effects may also define `check(brand=, now=, member=)` (raise ValueError to refuse the effect, which fails the
event naming the plugin), `project(member, now)` (the member as the next plugin should see it) and
`announce(event_id=, plugin=, index=, member_id=)` (a follow-up event of its own: detail-type and detail).
"""

from __future__ import annotations

import importlib
from typing import Any, Callable, Iterable

# name -> loader(store, brand, event, member_state) -> value or None
CONTEXT_LOADERS: dict[str, Callable[..., Any]] = {}
# effect type -> planner(effect, plan) -> iterable of side writes
SIDE_WRITE_PLANNERS: dict[type, Callable[..., Iterable[Any]]] = {}

# The families that register here; imported once, before the first event.
FAMILIES = ("plugins.coupons.model", "plugins.referral.model", "plugins.crisis.model")
_loaded = False


def context_loader(name: str) -> Callable:
    def register(function: Callable) -> Callable:
        CONTEXT_LOADERS[name] = function
        return function

    return register


def side_writes(effect_type: type) -> Callable:
    def register(function: Callable) -> Callable:
        SIDE_WRITE_PLANNERS[effect_type] = function
        return function

    return register


def load_families() -> None:
    global _loaded
    if not _loaded:
        import_modules(FAMILIES)
        _loaded = True


def import_modules(modules: tuple[str, ...]) -> None:
    """Import each module, skipping one that is not there at all (a family left out of a build), but never
    hiding a missing import inside a module that is."""
    for module in modules:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as missing:
            if missing.name != module:
                raise
