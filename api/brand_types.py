"""GraphQL types for brand configuration, plugins, dry runs and event problems (staff only)."""


from datetime import datetime
from typing import Annotated, Optional, Union

import strawberry
from strawberry.types import Info

from api.enums import EventOutcome
from api.explanation_types import Effect
from strawberry.scalars import JSON

from api.types import BrandNotConfigured, Busy, InvalidInput, PageInfo, Tier
from rules.brands import BrandConfig
from rules.plugin_manager import PluginInfo
from rules.persistence import EventProblem


@strawberry.type(description="A rule plugin installed in this deployment (or one that could not load), and whether "
                             "this brand enabled it.")
class Plugin:
    name: str
    version: str
    description: str
    params_schema: JSON = strawberry.field(description="JSON Schema of the plugin's parameters.")
    enabled: bool
    params: Optional[JSON] = strawberry.field(description="This brand's parameters, defaults filled in.")
    available: bool = strawberry.field(default=True, description="Whether this deployment runs it; false for a plugin "
                                                                 "that could not load (see `problem`).")
    problem: Optional[str] = strawberry.field(default=None, description="Why the plugin is not available.")

    @classmethod
    def of(cls, info: PluginInfo, brand: BrandConfig | None) -> "Plugin":
        params = brand.plugins.get(info.name) if brand else None
        return cls(name=info.name, version=info.version, description=info.description,
                   params_schema=dict(info.params_schema), enabled=params is not None,
                   params=dict(params) if params is not None else None)

    @classmethod
    def unavailable(cls, name: str, problem: str, brand: BrandConfig | None) -> "Plugin":
        params = brand.plugins.get(name) if brand else None
        return cls(name=name, version="", description="", params_schema={}, enabled=params is not None,
                   params=dict(params) if params is not None else None, available=False, problem=problem)


@strawberry.type(description="A plugin this brand enabled, and whether this deployment can run it: when it cannot, "
                             "the brand's events fail naming it (eventProblems) rather than apply without it.")
class EnabledPlugin:
    name: str
    available: bool
    problem: Optional[str] = None


@strawberry.type
class Brand:
    id: strawberry.ID
    name: str
    timezone: str
    tiers: list[Tier]
    enabled_plugins: list[str]
    version: int
    plugins: list[EnabledPlugin] = strawberry.field(description="Each enabled plugin, with its availability here.")

    @classmethod
    def of(cls, brand: BrandConfig) -> "Brand":
        from rules.plugin_manager import registry

        installed = registry()
        plugins = [EnabledPlugin(name=name, available=name in installed.infos,
                                 problem=None if name in installed.infos else installed.unavailable(name))
                   for name in sorted(brand.plugins)]
        return cls(id=strawberry.ID(brand.brand_id), name=brand.name, timezone=brand.timezone,
                   tiers=[Tier(code=t.code, name=t.name, threshold=t.threshold, benefits=dict(t.benefits))
                          for t in brand.tiers],
                   enabled_plugins=sorted(brand.plugins), version=brand.version, plugins=plugins)


@strawberry.type
class BrandConfigured:
    brand: Brand


ConfigureBrandResult = Annotated[Union[BrandConfigured, InvalidInput, BrandNotConfigured, Busy],
                                 strawberry.union("ConfigureBrandResult")]


@strawberry.input
class TierInput:
    code: str
    name: str
    threshold: int
    deduction: int = 0
    benefits: Optional[JSON] = None


@strawberry.input
class PluginSettingInput:
    name: str
    enabled: bool = True
    params: Optional[JSON] = None


@strawberry.input(description="Fields left out keep their current value; `plugins` lists only what changes.")
class ConfigureBrandInput:
    name: Optional[str] = None
    timezone: Optional[str] = None
    tiers: Optional[list[TierInput]] = None
    plugins: Optional[list[PluginSettingInput]] = None


@strawberry.type(description="What the engine would do with an event now: nothing is written.")
class Simulation:
    event_id: strawberry.ID = strawberry.field(description="The simulated event's id.")
    state: EventOutcome = strawberry.field(description="SIMULATED, DUPLICATE (already applied), REJECTED, IGNORED, INVALID (proposed parameters that would not be saved) "
                                                       "or FAILED.")
    decisions: list[Effect] = strawberry.field(description="What the rules would decide, each with its why.")
    status: str = strawberry.field(description="simulated, duplicate (already applied), rejected, ignored or failed.",
                                   deprecation_reason="Use state (an enum); removed in the next release.")
    effects: JSON = strawberry.field(description="Each effect with plugin, version, rule and inputs.",
                                     deprecation_reason="Use decisions (typed); removed in the next release.")
    follow_ups: list[str]
    reason: Optional[str] = None
    field: Optional[str] = None
    plugin: Optional[str] = None


@strawberry.type(description="An event that was rejected (invalid) or failed (a plugin raised), kept with its reason.")
class EventProblemView:
    event_id: strawberry.ID
    detail_type: str
    state: EventOutcome = strawberry.field(description="REJECTED (invalid) or FAILED (a plugin raised).")
    status: str = strawberry.field(description="rejected or failed.",
                                   deprecation_reason="Use state (an enum); removed in the next release.")
    reason: str
    field: Optional[str]
    plugin: Optional[str]
    received_at: datetime
    raw: str
    _brand_id: strawberry.Private[Optional[str]] = None

    @strawberry.field(description="Whether the event has been applied since (a resend once its cause was fixed, or a "
                                  "later delivery): read from its processed record, so never stale.")
    def applied_since(self, info: Info) -> bool:
        if self._brand_id is None:
            return False
        return info.context.store.get_event(self._brand_id, str(self.event_id)) is not None

    @classmethod
    def of(cls, problem: EventProblem) -> "EventProblemView":
        return cls(event_id=problem.event_id, detail_type=problem.detail_type, status=problem.status,
                   state=EventOutcome(problem.status),
                   reason=problem.reason, field=problem.field, plugin=problem.plugin,
                   received_at=problem.received_at, raw=problem.raw, _brand_id=problem.brand_id)


@strawberry.type(description="One problem in a page, with the cursor that continues after it.")
class EventProblemEdge:
    cursor: str
    node: EventProblemView


@strawberry.type(name="EventProblemConnection", description="A page of event problems, newest first.")
class EventProblems:
    edges: list[EventProblemEdge]
    page_info: PageInfo
