"""How a rule family plugs in: one `Family` declaration, the only way, for the built-ins as for any later family.

A family is a folder under `plugins/` (points, tiers, expiry, coupons, referral, crisis): its pure plugin, its
model and planners, its effects, its DynamoDB half and its GraphQL half. Its `__init__.py` declares it as
`FAMILY = Family(...)`, and `plugins/__init__.py` lists it once in `FAMILIES`: that list is the one registry.

The engine core (`rules/`) names no family. It reads everything family-specific from here:

- `plugins`: modules holding pluggy hook implementations (pure: they read a context and return effects);
- `hookspecs`: a module with the family's own hook specifications (`siyu_alerts_due`), added to the plugin manager;
- `events`: the business events the family introduces, each with its hook and the JSON Schema of its detail;
- `follow_ups`: the follow-up detail types its effects may emit (a plugin may always emit `<its name>.*` too);
- `loaders`: `context.extras[name]` for every plugin, read before the rules run:
  `loader(store, brand, event, member_state) -> value or None` (None: the event is none of its business);
- `planners`: per effect type, `planner(effect, plan) -> side writes` (`rules.persistence.SideWrite` values the
  store writes in the event's one transaction, so they too happen exactly once; a failed condition there makes the
  engine evaluate the event again on fresh state);
- `effects`: the effect types it declares; `partner_effects`: those of them partner plugins may return too (sent
  across the sandbox's wire, importable from `rules.sdk`); `shared_holdings`: which of its member holdings partner
  plugins see (name -> the dataclass of one item);
- `sweeps`: scheduled sweeps of its own beyond the daily member sweep (`Sweep`);
- `storage`: the module of its DynamoDB half (imported by `infra/`, never by `rules/`): `Storage` (methods the store
  gains), `WRITERS` (side-write type -> `writer(tx, write, record)`), `HOLDINGS` (pynamodb model -> (holding name,
  convert): items the family keeps in a member's partition, read by the member Query into `member.holdings`), and
  `PERSONAL_COPIES` (finders of items elsewhere that copy a member's personal data, stripped on erasure) and
  `ON_ERASURE` (`(brand, member) -> None`, idempotent: what the family lists the member in goes when they are erased);
- `graphql`: the module of its GraphQL half (imported by `api/`): `Query`, `Mutation` and `MemberFields` classes
  merged into the schema.
- `kpis`: the module saying what its items contribute to the brand's daily figures, read off the table's change
  stream by whichever family aggregates them (`CONTRIBUTIONS`: item type -> `contribute(old, new)` giving
  `rules.kpis.Count` values; images are plain dicts of the item's stored attributes, None when absent).

Effects a family declares subclass `rules.effects.FamilyEffect`, whose `check`, `project` and `announce` are the
engine's whole protocol with them.
"""

from __future__ import annotations

import importlib
import os
import threading
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping

# The package whose `FAMILIES` lists the families this deployment runs (module paths of their packages).
INDEX = "plugins"


@dataclass(frozen=True)
class EventType:
    """A business event a family introduces: the hook it calls and the JSON Schema of its `detail`."""

    hook: str
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Sweep:
    """A scheduled sweep of a family's own (the daily member sweep is the core's).

    `resource`: a fragment of the EventBridge rule's name that selects it; `targets(store, until)`: the (brand,
    member or None) pairs to call `hook` for, each under its own event id derived from the sweep's."""

    name: str
    resource: str
    hook: str
    targets: Callable[[Any, Any], Iterable[tuple[str, str | None]]]
    counts: str = "brands"  # what one target is, for the summary: "brands" or "members"
    # A job fanned out through the sweep queue (rules/fanout.py) instead of run in one invocation: batches whose
    # `sweep` is `<name>@<scope>` call `hook` for each member, and a `coordinate` message for it calls
    # `coordinate(engine, message)` (which lists more and queues it). None: the sweep is never fanned out.
    coordinate: Callable[[Any, Any], Any] | None = None


@dataclass(frozen=True)
class Family:
    name: str
    plugins: tuple[str, ...] = ()
    hookspecs: str | None = None
    events: Mapping[str, EventType] = field(default_factory=dict)
    follow_ups: frozenset[str] = frozenset()
    loaders: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    planners: Mapping[type, Callable[..., Iterable[Any]]] = field(default_factory=dict)
    effects: tuple[type, ...] = ()
    partner_effects: tuple[type, ...] = ()
    shared_holdings: Mapping[str, type] = field(default_factory=dict)
    sweeps: tuple[Sweep, ...] = ()
    storage: str | None = None
    graphql: str | None = None
    kpis: str | None = None
    # Its sentences, by key, in Chinese and English (rules/messages.py renders them with the core's).
    messages: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Attempt limits of its member-facing actions (rules/limits.py), by action name.
    limits: Mapping[str, Any] = field(default_factory=dict)
    # The parameters the local demo brand gives the family's plugins (infra/demo.py), by plugin name.
    demo_params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


class Families:
    """The loaded families, and what they declare merged, checked for clashes once."""

    def __init__(self, families: Iterable[Family]) -> None:
        self.all: tuple[Family, ...] = tuple(families)
        names = [f.name for f in self.all]
        if len(set(names)) != len(names):
            raise ValueError(f"two families share a name: {names}")
        self.events: dict[str, EventType] = {}
        self.loaders: dict[str, Callable[..., Any]] = {}
        self.planners: dict[type, Callable[..., Iterable[Any]]] = {}
        self.sweeps: dict[str, Sweep] = {}
        for family in self.all:
            for what, mine, theirs in (("event", family.events, self.events),
                                       ("context loader", family.loaders, self.loaders),
                                       ("planner", family.planners, self.planners),
                                       ("sweep", {s.name: s for s in family.sweeps}, self.sweeps)):
                clash = set(mine) & set(theirs)
                if clash:
                    raise ValueError(f"family {family.name!r} declares a {what} another family has: {sorted(map(str, clash))}")
                theirs.update(mine)
        self.follow_ups = frozenset(t for f in self.all for t in f.follow_ups)
        self.plugin_modules = tuple(m for f in self.all for m in f.plugins)
        self.hookspec_modules = tuple(f.hookspecs for f in self.all if f.hookspecs)
        self.effect_types = tuple(t for f in self.all for t in f.effects)
        self.messages = {key: text for f in self.all for key, text in f.messages.items()}
        self.limits = {action: limit for f in self.all for action, limit in f.limits.items()}
        self.demo_params = {name: params for f in self.all for name, params in f.demo_params.items()}
        self.partner_effects = tuple(t for f in self.all for t in f.partner_effects)
        self.shared_holdings = {name: kind for f in self.all for name, kind in f.shared_holdings.items()}

    def fanned_out(self, sweep: str) -> Sweep | None:
        """The family sweep a fanned-out batch or coordinate message names (`<name>@<scope>`), if any."""
        own = self.sweeps.get(sweep.split("@", 1)[0])
        return own if own is not None and own.coordinate is not None else None

    def modules(self, half: str) -> list[ModuleType]:
        """The families' `storage` or `graphql` modules, imported, in family order."""
        return [importlib.import_module(getattr(f, half)) for f in self.all if getattr(f, half)]


def load(modules: Iterable[str]) -> Families:
    """The families of these packages (each exposing `FAMILY`)."""
    return Families(importlib.import_module(module).FAMILY for module in modules)


_families: Families | None = None
_lock = threading.Lock()


def families() -> Families:
    """The process's families: `SIYU_FAMILIES` (comma-separated packages) if set, else the index's `FAMILIES`."""
    global _families
    if _families is None:
        with _lock:
            if _families is None:
                listed = os.environ.get("SIYU_FAMILIES", "").strip()
                modules = ([m.strip() for m in listed.split(",") if m.strip()] if listed
                           else importlib.import_module(INDEX).FAMILIES)
                _families = load(modules)
    return _families


def use(loaded: Families | None) -> None:
    """Run with these families from now on (None: load them again on next use); for tests that add a family."""
    global _families
    with _lock:
        _families = loaded
