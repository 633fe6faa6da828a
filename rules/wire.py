"""The sandbox protocol: what crosses between the engine and a partner plugin running out of process.

A partner plugin never runs in a process that holds table credentials or secrets (rules/sandbox.py). The engine
sends it the event and its read-only context as JSON and gets its effects back as JSON; both sides use this module,
so a plugin sees the same `RuleContext` in its sandbox as in `rules.testing.PluginCase`, and the engine validates
what comes back exactly as it validates a built-in's effects.

What a partner's context holds: the brand's configuration, its own parameters, the event's time, the member (no
WeChat identity hashes), and `decided`. Not `extras`: those are the built-in families' loaded data (coupon stock,
open alerts, a referrer) and stay in the engine.

Datetimes travel as {"$datetime": ISO-8601}, so nothing is mistaken for a time that was a string.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Mapping

from rules import effects as fx
from rules.brands import BrandConfig, RedemptionPolicy, TierLevel
from rules.context import Decided, MemberView, RuleContext
from rules.events import BusinessEvent, SweepEvent
from rules.ledger import Lot, PointsState

# The core effects a partner plugin may return, with those the families declare for partners
# (`Family.partner_effects`); the others (a family's brand counters, bindings, commissions, `BrandEmit`) are reserved
# to the built-in families and cannot be sent back at all.
CORE_PARTNER_EFFECTS = (fx.AwardPoints, fx.TakeBackPoints, fx.ExpirePoints, fx.AddGrowth, fx.SetTier,
                        fx.SetPaidMembership, fx.Once, fx.AddToTotal, fx.AddToDailyTotal, fx.Emit, fx.Note)


def partner_effects() -> dict[str, type[fx.Effect]]:
    from rules.family import families

    return {cls.__name__: cls for cls in (*CORE_PARTNER_EFFECTS, *families().partner_effects)}


def shared_holdings() -> dict[str, type]:
    """What of a member's holdings partners see (`Family.shared_holdings`: name -> the dataclass of one item)."""
    from rules.family import families

    return dict(families().shared_holdings)


class WireError(ValueError):
    """What came across cannot be what the protocol says (an unknown effect, a missing field)."""


# ---- values ------------------------------------------------------------------------------------------------------


def encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [encode(v) for v in items]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise WireError(f"{type(value).__name__} cannot be sent to or from a sandbox")


def decode(value: Any) -> Any:
    """JSON back to values: tagged datetimes restored, objects read-only, lists as tuples."""
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        if set(value) == {"$date"}:
            return date.fromisoformat(value["$date"])
        return MappingProxyType({k: decode(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(decode(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    """Decoded values as plain dicts and lists again (what dataclass fields typed as Mapping expect to copy)."""
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# ---- effects -----------------------------------------------------------------------------------------------------


def dump_effect(effect: fx.Effect) -> dict[str, Any]:
    if not isinstance(effect, fx.Effect):
        raise WireError(f"returned {type(effect).__name__}, not an effect")
    return {"effect": effect.kind, **{f.name: encode(getattr(effect, f.name)) for f in dataclasses.fields(effect)}}


def load_effect(data: Any) -> fx.Effect:
    """One effect as a sandbox returned it; refused if it is not one a partner may return, or malformed."""
    if not isinstance(data, Mapping) or not isinstance(data.get("effect"), str):
        raise WireError("an effect must be an object naming its `effect`")
    kind = data["effect"]
    cls = partner_effects().get(kind)
    if cls is None:
        raise WireError(f"{kind} is not an effect a partner plugin may return (reserved to the built-ins, or unknown)")
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    given = {k: v for k, v in data.items() if k != "effect"}
    unknown = sorted(set(given) - fields)
    if unknown:
        raise WireError(f"{kind} has no field {unknown[0]!r}")
    values = {}
    for name, raw in given.items():
        value = decode(raw)
        values[name] = MappingProxyType(_thaw(value)) if isinstance(value, Mapping) else value
    try:
        return cls(**values)
    except TypeError as problem:
        raise WireError(f"{kind}: {problem}") from None


# ---- events ------------------------------------------------------------------------------------------------------


def dump_event(event: BusinessEvent | SweepEvent) -> dict[str, Any]:
    if isinstance(event, SweepEvent):
        return {"kind": "sweep", "eventId": event.event_id, "sweep": event.sweep, "time": encode(event.time)}
    return {"kind": "business", "eventId": event.event_id, "detailType": event.detail_type, "source": event.source,
            "time": encode(event.time), "brandId": event.brand_id, "detail": encode(event.detail)}


def load_event(data: Mapping[str, Any]) -> BusinessEvent | SweepEvent:
    if data["kind"] == "sweep":
        return SweepEvent(data["eventId"], data["sweep"], decode(data["time"]))
    return BusinessEvent(data["eventId"], data["detailType"], data["source"], decode(data["time"]), data["brandId"],
                         decode(data["detail"]))


# ---- the context -------------------------------------------------------------------------------------------------


def dump_context(context: RuleContext) -> dict[str, Any]:
    brand = context.brand
    member = context.member
    return {
        "brand": {
            "brandId": brand.brand_id, "name": brand.name, "timezone": brand.timezone,
            "pointsValidityDays": brand.points_validity_days, "tierValidityMonths": brand.tier_validity_months,
            "tiers": encode(brand.tiers), "plugins": encode(brand.plugins), "redemption": encode(brand.redemption),
            "version": brand.version,
        },
        "params": encode(context.params),
        "now": encode(context.now),
        "member": None if member is None else {
            "memberId": member.member_id, "channel": member.channel, "registeredAt": encode(member.registered_at),
            "tierCode": member.tier_code, "tierValidUntil": encode(member.tier_valid_until),
            "growth": member.growth, "paidUntil": encode(member.paid_until), "birthday": member.birthday,
            "points": {"balance": member.points.balance, "debt": member.points.debt,
                       "lots": encode(member.points.lots)},
            "markers": encode(member.markers), "tags": encode(member.tags), "consents": encode(member.consents),
            "totals": encode(member.totals),
            # Days as ISO dates: JSON object keys are strings.
            "daily": {name: {day.isoformat(): amount for day, amount in days.items()}
                      for name, days in member.daily.items()},
            "holdings": {name: encode(member.holdings.get(name, ())) for name in shared_holdings()},
        },
        # Only what a partner may itself return: what the built-ins decided about the brand stays with them.
        "decided": [{"plugin": d.plugin, "version": d.version, "effect": dump_effect(d.effect)}
                    for d in context.decided if d.effect.kind in partner_effects()],
    }


def load_context(data: Mapping[str, Any]) -> RuleContext:
    raw_brand = data["brand"]
    tiers = tuple(TierLevel(**{**_thaw(decode(t)), "benefits": decode(t["benefits"])}) for t in raw_brand["tiers"])
    brand = BrandConfig(
        raw_brand["brandId"], raw_brand["name"], tiers, timezone=raw_brand["timezone"],
        points_validity_days=raw_brand["pointsValidityDays"], tier_validity_months=raw_brand["tierValidityMonths"],
        plugins=decode(raw_brand["plugins"]), redemption=RedemptionPolicy(**raw_brand["redemption"]),
        version=raw_brand["version"],
    )
    raw_member = data["member"]
    member = None
    if raw_member is not None:
        points = raw_member["points"]
        member = MemberView(
            member_id=raw_member["memberId"], channel=raw_member["channel"],
            registered_at=decode(raw_member["registeredAt"]), tier_code=raw_member["tierCode"],
            tier_valid_until=decode(raw_member["tierValidUntil"]), growth=raw_member["growth"],
            points=PointsState(points["balance"], tuple(Lot(**_thaw(decode(lot))) for lot in points["lots"]),
                               points.get("debt", 0)),
            markers=decode(raw_member["markers"]), paid_until=decode(raw_member["paidUntil"]),
            birthday=raw_member["birthday"],
            holdings=MappingProxyType({name: tuple(kind(**_thaw(decode(item))) for item in raw_member["holdings"].get(name, ()))
                                       for name, kind in shared_holdings().items()}),
            tags=frozenset(raw_member["tags"]), consents=decode(raw_member["consents"]),
            totals=decode(raw_member.get("totals", {})),
            daily=MappingProxyType({name: MappingProxyType({date.fromisoformat(day): amount
                                                            for day, amount in days.items()})
                                    for name, days in raw_member.get("daily", {}).items()}),
        )
    decided = tuple(Decided(d["plugin"], d["version"], load_effect(d["effect"])) for d in data["decided"])
    return RuleContext(brand=brand, params=decode(data["params"]), now=decode(data["now"]), member=member,
                       extras=MappingProxyType({}), decided=decided)


def round_trip(context: RuleContext) -> RuleContext:
    """The context as a sandboxed plugin would see it (what `PluginCase` gives partner plugins)."""
    import json

    return load_context(json.loads(json.dumps(dump_context(context))))
