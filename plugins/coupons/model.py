"""Coupons: templates as data, who may claim them and why not, and coupons as member holdings.

Templates are the `coupons` plugin's parameters (so a brand edits them with `configureBrand`, validated when
saved). A template's stock counts every coupon of it: claims are refused once it is out, while coupons that rules
issue (a tier's upgrade gift, a birthday coupon, a late-delivery compensation) are a promise already made and are
always issued, counting toward the stock. Coupons live in the member's partition, so the member page and every
event see them with the member's one Query.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, Iterable, Mapping

from plugins.coupons.effects import PLUGIN, IssueCoupon, UseCoupon, coupon_id_for, rule_coupon_id
import plugins.segments.effects as segment_requirements
from rules import messages
from rules.brands import BrandConfig
from rules.errors import NotFound, SiyuError

CLAIM_COUPON = "claimCoupon"  # the attempt-limited action (rules/limits.py)
CLAIMED = "claim"  # a coupon's source when the member claimed it (else: the rule plugin that gave it)
# A template's stock is split over this many counters (fewer for a smaller stock): concurrent claims and rules'
# coupons of one template are spread over them instead of all conditioning on one brand-wide item.
STOCK_SHARDS = 8


class CouponTemplateNotFound(NotFound):
    code = "COUPON_TEMPLATE_NOT_FOUND"

    def __init__(self, template_id: str) -> None:
        super().__init__(template_id=template_id)
        self.template_id = template_id


class CouponNotEligible(SiyuError):
    """The member may not claim this coupon now; `reasons` says every why (plugins.coupons.model.Reason)."""

    code = "COUPON_NOT_ELIGIBLE"

    def __init__(self, template_id: str, reasons: list) -> None:
        self.template_id = template_id
        self.reasons = reasons
        super().__init__(reasons=[r.code for r in reasons])

    def render(self, language: str) -> str:
        why = "; ".join(r.render(language) for r in self.reasons)
        return messages.render(self.key, language, {"reasons": why})



@dataclass(frozen=True)
class Template:
    id: str
    name: str
    kind: str  # amount_off (满减), percent_off (折), gift
    threshold_fen: int = 0
    amount_fen: int = 0
    discount_percent: int = 0  # percent_off: what is paid, e.g. 75 = 75折 (25% off)
    gift: str | None = None
    valid_days: int | None = None  # N days from claim...
    valid_from: datetime | None = None  # ...or a fixed window
    valid_until: datetime | None = None
    eligibility: Mapping[str, Any] = field(default_factory=dict)
    per_member_limit: int = 1
    stock: int | None = None
    stackable_with: frozenset[str] = frozenset()
    claimable: bool = True

    @property
    def stock_shards(self) -> int:
        """How many counters the template's stock is split over (claims on different ones never conflict)."""
        return STOCK_SHARDS if self.stock is None else max(1, min(STOCK_SHARDS, self.stock))

    def shard_stock(self, shard: int) -> int | None:
        """The part of the stock shard `shard` may give out: the parts add up to the stock exactly."""
        if self.stock is None:
            return None
        n = self.stock_shards
        return self.stock // n + (1 if shard < self.stock % n else 0)

    def stock_shard_for(self, coupon_id: str) -> int:
        """Where a rule's coupon counts: from its id, so it always lands on the same shard."""
        return int(hashlib.sha256(coupon_id.encode()).hexdigest()[:8], 16) % self.stock_shards

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "Template":
        from rules.clock import parse_time

        return cls(
            id=data["id"], name=data["name"], kind=data["kind"], threshold_fen=data.get("thresholdFen", 0),
            amount_fen=data.get("amountFen", 0), discount_percent=data.get("discountPercent", 0),
            gift=data.get("gift"), valid_days=data.get("validDays"),
            valid_from=parse_time(data["validFrom"]) if data.get("validFrom") else None,
            valid_until=parse_time(data["validUntil"]) if data.get("validUntil") else None,
            eligibility=data.get("eligibility") or {}, per_member_limit=data.get("perMemberLimit", 1),
            stock=data.get("stock"), stackable_with=frozenset(data.get("stackableWith") or ()),
            claimable=data.get("claimable", True),
        )

    def window(self, issued_at: datetime) -> tuple[datetime, datetime]:
        """When a coupon of this template issued at `issued_at` can be used."""
        if self.valid_days is not None:
            return issued_at, issued_at + timedelta(days=self.valid_days)
        return self.valid_from or issued_at, self.valid_until  # type: ignore[return-value]

    def discount_fen(self, order_fen: int) -> int:
        if order_fen < self.threshold_fen:
            return 0
        if self.kind == "amount_off":
            return min(self.amount_fen, order_fen)
        if self.kind == "percent_off":
            return order_fen * (100 - self.discount_percent) // 100
        return 0


@dataclass(frozen=True)
class Coupon:
    """One coupon a member holds. `status` is what was written (available, used); `state(now)` also derives
    expired and not-yet-valid from the window, whatever any sweep has done."""

    coupon_id: str
    template_id: str
    name: str
    kind: str
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    source: str  # "claim" or the plugin that issued it
    reason: str
    threshold_fen: int = 0
    amount_fen: int = 0
    discount_percent: int = 0
    gift: str | None = None
    status: str = "available"
    used_at: datetime | None = None
    order_id: str | None = None

    def state(self, now: datetime) -> str:
        if self.status == "used":
            return "used"
        if now >= self.valid_until:
            return "expired"
        if now < self.valid_from:
            return "not_yet_valid"
        return "available"


@dataclass(frozen=True)
class Reason:
    """Why a member cannot claim a template now: a stable code (its sentence is `coupon.<code>` in
    rules/messages.py) and the sentence's parameters."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, language: str) -> str:
        return messages.render(f"coupon.{self.code}", language, self.params)

    @property
    def message(self) -> str:
        return self.render(messages.EN)


_parsed: tuple[Any, Mapping[str, Template]] = (None, MappingProxyType({}))


def templates(brand: BrandConfig) -> Mapping[str, Template]:
    global _parsed
    params = brand.plugins.get(PLUGIN)
    if params is None:
        return MappingProxyType({})
    seen, found = _parsed
    if seen is not params:
        # Every order.paid reads them: parsed once per brand configuration object (the store caches the brand),
        # not once per event.
        found = MappingProxyType({t["id"]: Template.of(t) for t in params.get("templates", ())})
        _parsed = (params, found)
    return found


def new_coupon(template: Template, coupon_id: str, *, at: datetime, source: str, reason: str) -> Coupon:
    start, end = template.window(at)
    return Coupon(coupon_id=coupon_id, template_id=template.id, name=template.name, kind=template.kind,
                  issued_at=at, valid_from=start, valid_until=end, source=source, reason=reason,
                  threshold_fen=template.threshold_fen, amount_fen=template.amount_fen,
                  discount_percent=template.discount_percent, gift=template.gift)


def held(member, template_id: str) -> int:
    """How many coupons of this template the member was ever given (the per-member limit counts them all)."""
    return sum(1 for c in member.coupons if c.template_id == template_id)


def ineligibility(template: Template, member, now: datetime, brand: BrandConfig, *, issued: int,
                  paused: frozenset[str]) -> list[Reason]:
    """Every reason this member cannot claim `template` now (empty: eligible). `member` is a `MemberView`."""
    from zoneinfo import ZoneInfo

    reasons: list[Reason] = []
    rules = template.eligibility
    if not template.claimable:
        reasons.append(Reason("NOT_CLAIMABLE"))
    if template.id in paused:
        reasons.append(Reason("PAUSED"))
    if template.valid_days is None:
        if template.valid_from and now < template.valid_from:
            reasons.append(Reason("NOT_STARTED", {"starts_at": template.valid_from.isoformat()}))
        if template.valid_until and now >= template.valid_until:
            reasons.append(Reason("ENDED"))
    if template.stock is not None and issued >= template.stock:
        reasons.append(Reason("OUT_OF_STOCK"))
    if held(member, template.id) >= template.per_member_limit:
        reasons.append(Reason("LIMIT_REACHED", {"limit": template.per_member_limit}))
    tiers = rules.get("tiers")
    if tiers and member.tier_code not in tiers:
        names = "/".join(brand.tier(code).name for code in tiers if brand.tier(code))
        reasons.append(Reason("TIER", {"tiers": names}))
    if rules.get("paidMember") and not member.is_paid_member(now):
        reasons.append(Reason("PAID_MEMBER"))
    within = rules.get("newMemberWithinDays")
    if within is not None and now - member.registered_at > timedelta(days=within):
        reasons.append(Reason("NEW_MEMBER", {"days": within}))
    if rules.get("birthdayMonth"):
        month = now.astimezone(ZoneInfo(brand.timezone)).month
        if member.birthday is None or int(member.birthday[2:4]) != month:
            reasons.append(Reason("BIRTHDAY_MONTH"))
    wanted = rules.get("tags")
    if wanted and not set(wanted) <= member.tags:
        reasons.append(Reason("TAGS"))
    if rules.get("firstOrder") and member.has(FIRST_ORDER_MARKER):
        reasons.append(Reason("FIRST_ORDER"))
    unmet = segment_requirements.unmet(member, stages=rules.get("stages"), segments=rules.get("segments"))
    if "STAGE" in unmet:
        reasons.append(Reason("STAGE"))
    if "SEGMENTS" in unmet:
        reasons.append(Reason("SEGMENTS"))
    return reasons


FIRST_ORDER_MARKER = f"{PLUGIN}:ordered"


# ---- what the engine writes for coupon effects ---------------------------------------------------------------------


@dataclass(frozen=True)
class CouponIssued:
    """A side write: the coupon item in the member's partition, its template's counters (the stock's on shard
    `stock_shard`)."""

    brand_id: str
    member_id: str
    coupon: Coupon
    stock_shard: int = 0
    items: int = 3  # the coupon, the member's count of the template, the template's stock


@dataclass(frozen=True)
class CouponUsed:
    brand_id: str
    member_id: str
    coupon_id: str
    valid_until: datetime
    order_id: str
    at: datetime
    items: int = 1


def plan_issue(effect: IssueCoupon, plan) -> Iterable[CouponIssued]:
    template = templates(plan.brand).get(effect.template_id)
    if template is None:
        raise ValueError(f"IssueCoupon names template {effect.template_id!r}, which the brand's coupons plugin "
                         "does not define")
    coupon_id = rule_coupon_id(plan.event_id, plan.plugin, plan.index)
    coupon = new_coupon(template, coupon_id, at=plan.now, source=plan.plugin, reason=effect.reason)
    yield CouponIssued(plan.brand.brand_id, effect.to_member or plan.member.profile.member_id, coupon,
                       template.stock_shard_for(coupon_id))


def plan_use(effect: UseCoupon, plan) -> Iterable[CouponUsed]:
    coupon = next((c for c in plan.member.holdings.get("coupons", ()) if c.coupon_id == effect.coupon_id), None)
    if coupon is None:
        raise ValueError(f"UseCoupon names coupon {effect.coupon_id!r}, which the member does not hold")
    yield CouponUsed(plan.brand.brand_id, plan.member.profile.member_id, coupon.coupon_id, coupon.valid_until,
                     effect.order_id, plan.now)


def load_templates(store, brand: BrandConfig, event, state) -> Mapping[str, Template] | None:
    # Plugins read templates from the brand (already loaded): no request here.
    found = templates(brand)
    return found or None


# ---- pausing templates (a crisis, an operator) ---------------------------------------------------------------------


# ---- services: offers and claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    template: Template
    eligible: bool
    reasons: tuple[Reason, ...]
    stock_left: int | None


def offers(store, brand: BrandConfig, member_id: str, now: datetime) -> list[Offer]:
    """Every template of the brand, with whether this member may claim it now and, if not, every reason."""
    from rules.context import member_view
    from rules.errors import MemberNotFound

    state = store.load_member(brand.brand_id, member_id, as_of=now)
    if state is None:
        raise MemberNotFound(member_id)
    found = templates(brand)
    if not found:
        return []
    view = member_view(state.profile, state.points, state.markers, state.holdings)
    issued, paused = store.coupon_state(brand.brand_id)
    result = []
    for template in found.values():
        reasons = ineligibility(template, view, now, brand, issued=issued.get(template.id, 0), paused=paused)
        left = None if template.stock is None else max(0, template.stock - issued.get(template.id, 0))
        result.append(Offer(template, not reasons, tuple(reasons), left))
    return result


def claim(store, brand: BrandConfig, member_id: str, template_id: str, now: datetime, *,
          request_id: str) -> Coupon:
    """Claim a coupon: every eligibility rule checked on the member as loaded, then stock and the per-member limit
    enforced by the write itself (concurrent claims cannot oversell). `request_id` makes the coupon's id."""
    from rules.context import member_view
    from rules.errors import MemberNotFound

    template = templates(brand).get(template_id)
    if template is None:
        raise CouponTemplateNotFound(template_id)
    state = store.load_member(brand.brand_id, member_id, as_of=now)
    if state is None:
        raise MemberNotFound(member_id)
    coupon_id = coupon_id_for(f"claim|{brand.brand_id}|{member_id}|{template_id}|{request_id}")
    already = next((c for c in state.holdings.get("coupons", ()) if c.coupon_id == coupon_id), None)
    if already is not None:
        return already  # the same request again: its coupon, not a second one (nor a refusal for the limit)
    view = member_view(state.profile, state.points, state.markers, state.holdings)
    # Stock and pauses are left to the write's conditions: reading them first would cost a request and be stale.
    reasons = ineligibility(template, view, now, brand, issued=0, paused=frozenset())
    if reasons:
        raise CouponNotEligible(template_id, reasons)
    coupon = new_coupon(template, coupon_id, at=now, source=CLAIMED, reason="claimed by the member")
    return store.claim_coupon(brand.brand_id, member_id, template, coupon, state.version)
