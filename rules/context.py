"""What a plugin sees: a read-only view of the brand, the member and its own parameters, at the event's time."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Callable, Mapping

from rules.brands import BrandConfig, TierLevel
from rules.expiry import expiry_for_brand
from rules.ledger import Lot, PointsState
from rules.months import local_day
from rules import plain


@dataclass(frozen=True)
class MemberView:
    member_id: str
    channel: str
    registered_at: datetime
    tier_code: str
    tier_valid_until: datetime | None
    growth: int
    points: PointsState
    markers: Mapping[str, Mapping[str, Any]]
    paid_until: datetime | None = None
    birthday: str | None = None  # "--MM-DD"
    holdings: Mapping[str, tuple] = field(default_factory=dict)  # the families' items: "coupons", "commissions", ...
    tags: frozenset[str] = frozenset()
    identities: frozenset[str] = frozenset()  # keyed hashes of the WeChat openid / unionid
    # Purpose -> whether the member's newest consent record grants it (rules.consent); absent: never asked.
    consents: Mapping[str, bool] = field(default_factory=lambda: MappingProxyType({}))
    # The member's running totals (`AddToTotal`), by name: what a rule keeps summed over the member's history.
    totals: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    # The member's daily totals (`AddToDailyTotal`), by name: {brand-local day: amount} over the months still kept.
    daily: Mapping[str, Mapping[date, int]] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def coupons(self) -> tuple:
        """The member's coupons (`plugins.coupons.model.Coupon`), whatever their status."""
        return self.holdings.get("coupons", ())

    def is_paid_member(self, now: datetime) -> bool:
        return self.paid_until is not None and self.paid_until > now

    def has(self, key: str) -> bool:
        """Whether a `Once` marker with this key was claimed (by an earlier event, or a plugin that ran before)."""
        return key in self.markers

    def marker(self, key: str) -> Mapping[str, Any] | None:
        """The data a rule stored with a `Once` marker, or None if it was never claimed."""
        return self.markers.get(key)

    def markers_under(self, prefix: str) -> dict[str, Mapping[str, Any]]:
        """Every claimed marker whose key starts with `prefix` (e.g. all refunds of one order)."""
        return {key: data for key, data in self.markers.items() if key.startswith(prefix)}

    def total(self, name: str) -> int:
        """The member's running total `name` (`AddToTotal`), 0 if nothing was ever added to it."""
        return int(self.totals.get(name, 0))

    def daily_totals(self, name: str) -> Mapping[date, int]:
        """The member's daily total `name` (`AddToDailyTotal`): brand-local day -> amount, for the days added to in
        the months still kept (days never added to are absent)."""
        return MappingProxyType(dict(self.daily.get(name, {})))

    def consented(self, purpose: str) -> bool:
        """Whether the member's consent for `purpose` (e.g. "behaviour_analytics") is in force. Rules that use
        behaviour data for anything beyond the points it earns should check it. Marketing notifications need not:
        the engine drops `notification.requested` for members without marketing consent whatever a rule asks."""
        return bool(self.consents.get(getattr(purpose, "value", purpose), False))

    def spendable(self, now: datetime) -> int:
        return self.points.spendable(now)


# How the plugin that grades members (`tiers`, registered on import) judges a validity or window that ended by the
# context's time: given a context carrying that plugin's parameters, the tier code the member holds once judged.
# Read by `RuleContext.tier_in_force`, so plugins that run before the grading plugin (points, order 10) see the
# tier that is in force at the event's time, not one whose validity ended before the sweep that would have judged
# it ran.
TIER_JUDGES: dict[str, Callable[["RuleContext"], str]] = {}


@dataclass(frozen=True)
class Decided:
    """One effect an earlier plugin returned for this same event (`context.decided`)."""

    plugin: str
    version: str
    effect: Any  # a rules.effects.Effect


@dataclass(frozen=True)
class RuleContext:
    brand: BrandConfig
    params: Mapping[str, Any]
    now: datetime
    member: MemberView | None
    # What the rule families loaded beyond the member (`Family.loaders`): e.g. "coupon_templates", "alerts".
    # Built-ins only: a partner plugin's sandbox gets none (rules/wire.py).
    extras: Mapping[str, Any] = field(default_factory=dict)
    # What the plugins that ran before this one decided for this event, in order (read-only).
    decided: tuple[Decided, ...] = ()

    @property
    def tier(self) -> TierLevel | None:
        """The member's tier in force now (`tier_in_force`)."""
        return self.tier_in_force()

    def tier_in_force(self) -> TierLevel | None:
        """The tier the member holds at `now`: the stored one, unless its validity ended by now and the brand's
        grading plugin (`tiers`) would judge it otherwise at its end (deduction, re-grade). That judgement is
        written by the sweep or by the grading plugin itself on this event; plugins that run before it (the
        `points` multiplier) read it here so an order after an ended validity never earns the old tier's rate."""
        if self.member is None:
            return None
        if not TIER_JUDGES:
            # A partner's sandbox process loads no built-in plugin: the families' plugins are loaded for their
            # judgement (the grading rule registers itself in TIER_JUDGES).
            import importlib

            from rules.family import families

            for module in families().plugin_modules:
                importlib.import_module(module)
        code = self.member.tier_code
        for plugin, judge in TIER_JUDGES.items():
            if plugin in self.brand.plugins:
                code = judge(self.for_plugin(self.brand.plugins[plugin]))
        return self.brand.tier(code)

    def local_date(self, at: datetime | None = None) -> date:
        """The brand-local calendar date of `at` (default: now), e.g. for once-a-day rules."""
        return local_day(at or self.now, self.brand.timezone)

    @property
    def timezone(self) -> str:
        """The brand's IANA time zone (e.g. "Asia/Shanghai"): days, weeks and months are counted in it."""
        return self.brand.timezone

    def decided_by(self, plugin: str) -> tuple:
        """The effects `plugin` returned for this event before this plugin ran (empty if it ran after, or not)."""
        return tuple(d.effect for d in self.decided if d.plugin == plugin)

    def expiry_for_new_points(self) -> datetime:
        """When points earned now expire: the `points_expiry` plugin's policy if the brand enabled it, else the
        brand's default validity in days."""
        return expiry_for_brand(self.brand, self.now)

    def for_plugin(self, params: Mapping[str, Any]) -> "RuleContext":
        # What `replace(self, params=...)` makes (no field here is init=False, no __post_init__), without its walk
        # over the fields: once per plugin per event.
        make = _CONTEXT if type(self) is RuleContext else type(self)
        return make(self.brand, MappingProxyType(dict(params)), self.now, self.member, self.extras, self.decided)


_CONTEXT = plain.maker(RuleContext)  # RuleContext(...) with every field, in order (rules/plain.py)


def member_view(profile, points: PointsState, markers: Mapping[str, Mapping[str, Any]],
                holdings: Mapping[str, tuple] | None = None,
                consents: Mapping[str, bool] | None = None, totals: Mapping[str, int] | None = None,
                daily: Mapping[str, Mapping[date, int]] | None = None) -> MemberView:
    # Every field, in MemberView's order (`_VIEW`: the class itself, or its plain maker).
    return _VIEW(
        profile.member_id, profile.channel, profile.registered_at, profile.tier_code, profile.tier_valid_until,
        profile.growth, points, markers, profile.paid_until, profile.birthday,
        MappingProxyType(dict(holdings or {})), frozenset(profile.tags),
        frozenset(i for i in (profile.openid_hash, profile.unionid_hash) if i),
        MappingProxyType(dict(consents or {})), MappingProxyType(dict(totals or {})),
        MappingProxyType({name: MappingProxyType(dict(days)) for name, days in (daily or {}).items()}),
    )


# `MemberView(...)` without the frozen dataclass's sixteen `object.__setattr__` calls: once per event (rules/plain.py).
_VIEW = plain.maker(MemberView)


def with_lot(view: MemberView, lot: Lot, points: int) -> MemberView:
    state = PointsState(view.points.balance + points, view.points.lots + (lot,))
    return replace(view, points=state)
