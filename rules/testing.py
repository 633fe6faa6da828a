"""Test a rule plugin against events in a few lines, without a database.

    from rules.testing import PluginCase

    case = PluginCase(my_plugin, params={"points": 10})
    result = case.run("member.engaged", {"action": "group_join"})
    assert result.points_awarded == 10
    assert case.run("member.engaged", {"action": "group_join"}, member=result.member).points_awarded == 0

`run` validates the event exactly as production does, calls your plugin through the same engine evaluation (so
the effect checks, ordering and explanations are the real ones), and returns what it decided plus the member as it
would stand afterwards, ready to feed into the next `run`. A partner plugin (any plugin outside Siyu's own
`plugins` package) is called through the sandbox protocol (rules/wire.py), in this process: it sees the context
exactly as its sandbox will, and an effect that cannot cross (not JSON, reserved to the built-ins) fails here too.

What it raises: `ValueError` when the event is not a valid event of its type; `rules.errors.InvalidInput` when the
parameters do not satisfy the plugin's schema (or its `check`); `rules.engine.PluginFailed` (with `.plugin` and
`.reason`) when the plugin raises or returns an effect the engine refuses, exactly where production would fail the
event; `TypeError`/`ValueError` from the constructor when the plugin cannot register (its `siyu_plugin_info` does not
return a `PluginInfo`, a misspelt hook, an invalid params schema).
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping

from rules import daily_totals, effects as fx
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Decision, Engine, FollowUp
from rules.events import BusinessEvent, Parsed, parse
from rules.ledger import Lot, PointsState, applied
from rules.members import MemberProfile, MemberState
from rules.plugin_manager import PluginRegistry

DEFAULT_TIME = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
_counter = itertools.count(1)


def member(*, growth: int = 0, tier: str = "PU", points: int = 0, markers: Mapping[str, Mapping] | None = None,
           brand_id: str = "test-brand", member_id: str = "m_test", at: datetime = DEFAULT_TIME,
           consents: Mapping[str, bool] | None = None, totals: Mapping[str, int] | None = None,
           daily: Mapping[str, Mapping[date, int]] | None = None) -> MemberState:
    """A member to run events against: `points` become one lot valid for a year; `consents` maps a purpose
    ("marketing_messages", ...) to the member's current choice (without it, the member was never asked, so the
    engine suppresses every `notification.requested`)."""
    from rules.consent import plan_record

    records = tuple(plan_record(purpose=purpose, granted=granted, policy_version="test", channel="miniprogram",
                                now=at - timedelta(days=1), actor=f"member:{member_id}")
                    for purpose, granted in (consents or {}).items())
    lots = (Lot("lot-0", points, points, at, at + timedelta(days=365)),) if points else ()
    profile = MemberProfile(brand_id=brand_id, member_id=member_id, phone_hash="0" * 64, phone_masked="138****0000",
                            channel="miniprogram", referral_code="TESTCODE", registered_at=at - timedelta(days=30),
                            tier_code=tier, growth=growth)
    return MemberState(profile=profile, points=PointsState(points, lots), markers=dict(markers or {}),
                       consents=records, totals=dict(totals or {}),
                       daily={name: dict(days) for name, days in (daily or {}).items()})


@dataclass(frozen=True)
class Result:
    decisions: tuple[Decision, ...]
    follow_ups: tuple[FollowUp, ...]
    member: MemberState

    @property
    def effects(self) -> list[fx.Effect]:
        return [d.effect for d in self.decisions]

    @property
    def points_awarded(self) -> int:
        return sum(e.points for e in self.effects if isinstance(e, fx.AwardPoints))

    def explained(self) -> list[dict[str, Any]]:
        return [d.describe() for d in self.decisions]


class PluginCase:
    def __init__(self, *plugins: Any, params: Mapping[str, Any] | None = None,
                 params_for: Mapping[str, Mapping[str, Any]] | None = None, brand: BrandConfig | None = None):
        """`params` are the first plugin's; with several plugins, `params_for` maps plugin name -> params."""
        self.registry = PluginRegistry()
        names = [self.registry.register(_as_deployed(p)).name for p in plugins]
        per_plugin = {names[0]: params or {}, **(params_for or {})}
        enabled = {name: self.registry.validate_params(name, per_plugin.get(name)) for name in names}
        base = brand or BrandConfig("test-brand", "测试品牌", BAIGUOYUAN_LADDER)
        self.brand = replace(base, plugins=enabled)
        self.engine = Engine(store=None, plugins=self.registry)  # evaluation only: nothing is ever written

    def run(self, detail_type: str, detail: Mapping[str, Any] | None = None, *, member: MemberState | None = None,
            at: datetime = DEFAULT_TIME, extras: Mapping[str, Any] | None = None) -> Result:
        """Evaluate one event; `extras` stands in for what the rule families would load (`context.extras`)."""
        state = member or globals()["member"](brand_id=self.brand.brand_id)
        body = {"brandId": self.brand.brand_id, "memberId": state.profile.member_id, **(detail or {})}
        envelope = {"id": f"test-{next(_counter)}-{uuid.uuid4().hex[:6]}", "source": "siyu.test",
                    "detail-type": detail_type, "time": at.isoformat(), "detail": body}
        parsed = parse(envelope)
        if not isinstance(parsed, Parsed) or not isinstance(parsed.event, BusinessEvent):
            raise ValueError(f"not a valid {detail_type} event: {getattr(parsed, 'reason', parsed)}")
        from rules.events import hooks

        evaluation = self.engine.evaluate(envelope["id"], at, self.brand, state, hooks()[detail_type],
                                          {"event": parsed.event}, extras)
        return Result(evaluation.decisions, evaluation.follow_ups, _after(state, evaluation))


def _as_deployed(plugin: Any) -> Any:
    """Built-ins run in the engine's process; every other plugin behind the sandbox protocol, as in production."""
    if getattr(plugin, "__name__", "").startswith("plugins."):
        return plugin
    from rules.plugin_manager import describe
    from rules.sandbox import SandboxError, remote_plugin
    from rules.sandbox_host import InProcessRunner

    info = describe(plugin)  # a plugin that cannot describe itself says why, here
    try:
        return remote_plugin(InProcessRunner({info.name: plugin}), info.name, info.name)
    except SandboxError as error:
        raise ValueError(f"plugin {info.name!r} cannot load: {error}") from None


def _after(state: MemberState, evaluation) -> MemberState:
    change = evaluation.change
    if change is None:
        return state
    points = applied(state.points, change.posting) if change.posting else state.points
    profile = state.profile
    if change.standing is not None:
        profile = replace(profile, growth=change.standing.growth, tier_code=change.standing.tier_code,
                          tier_valid_until=change.standing.tier_valid_until)
    markers = {**state.markers, **{key: dict(data) for key, _, data, _ in change.markers}}
    totals = state.totals if change.totals is None else dict(change.totals)
    daily = daily_totals.applied(state.daily, change.daily)
    return replace(state, profile=profile, points=points, markers=markers, version=state.version + 1, totals=totals,
                   daily=daily)
