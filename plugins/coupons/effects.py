"""The coupons family's declared effects: what any plugin (and the families that give coupons: tiers, referral)
may return or write to deal with coupons. Other families import this module, never the rest of the folder."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from rules.brands import BrandConfig
from rules.effects import FamilyEffect

PLUGIN = "coupons"


def template_ids(brand: BrandConfig) -> frozenset[str]:
    """The coupon templates the brand configured (the `coupons` plugin's parameters)."""
    params = brand.plugins.get(PLUGIN) or {}
    return frozenset(t["id"] for t in params.get("templates", ()))


def coupon_id_for(seed: str) -> str:
    return "c" + hashlib.sha256(seed.encode()).hexdigest()[:20]


def rule_coupon_id(event_id: str, plugin: str, index: int) -> str:
    """The id of the coupon a rule gives: the same on every evaluation of the event, so a retry never doubles it
    and `coupon.issued` names the coupon that was written."""
    return coupon_id_for(f"{event_id}|{plugin}|{index}")


@dataclass(frozen=True, kw_only=True)
class IssueCoupon(FamilyEffect):
    """Give the member a coupon of the brand's template `template_id` (a template of the `coupons` plugin).

    Rule-issued coupons are a promise already made: they are issued even when the template's claim stock is out,
    and count toward it. Guard repeats yourself (a `Once` per tier, per year, per order).

    `to_member` (another member) is for a family that rewards someone else and declares it in a subclass with an
    `owner` (the referral family's inviter reward); a plain `IssueCoupon` gives only to the event's member."""

    template_id: str
    reason: str
    to_member: str | None = None
    needs_member: ClassVar[bool] = True

    @property
    def kind(self) -> str:
        return "IssueCoupon"  # subclasses that reward another member are the same effect in every record

    def announce(self, *, event_id: str, plugin: str, index: int, member_id: str) -> tuple[str, dict]:
        """Every coupon a rule gives goes out as `coupon.issued` (CONTRACT), whichever plugin gave it."""
        return "coupon.issued", {"memberId": self.to_member or member_id, "templateId": self.template_id,
                                 "couponId": rule_coupon_id(event_id, plugin, index), "reason": self.reason}

    def check(self, *, brand: Any, now: Any, member: Any) -> None:
        if self.to_member is not None and self.owner is None:
            raise ValueError("a coupon for another member is reserved to the family that decides it")
        if self.template_id not in template_ids(brand):
            raise ValueError(f"template {self.template_id!r} is not one of the brand's coupon templates")


@dataclass(frozen=True, kw_only=True)
class UseCoupon(FamilyEffect):
    """Mark the member's coupon `coupon_id` used by order `order_id`. It must be available at the event's time;
    a coupon is used exactly once (a second use fails the write and the event is evaluated again)."""

    coupon_id: str
    order_id: str
    needs_member: ClassVar[bool] = True

    def check(self, *, brand: Any, now: Any, member: Any) -> None:
        coupon = next((c for c in member.coupons if c.coupon_id == self.coupon_id), None)
        if coupon is None or coupon.state(now) != "available":
            raise ValueError(f"coupon {self.coupon_id!r} is not available to this member")

    def project(self, member: Any, now: Any) -> Any:
        coupons = tuple(replace(c, status="used", used_at=now, order_id=self.order_id)
                        if c.coupon_id == self.coupon_id else c for c in member.coupons)
        return replace(member, holdings={**member.holdings, "coupons": coupons})


@dataclass(frozen=True)
class TemplatesPaused:
    """A side write: these templates of the brand may not be claimed while `by` (e.g. an alert id) holds them."""

    brand_id: str
    template_ids: tuple[str, ...]
    by: str
    resume: bool = False  # True: `by` lets go of them

    @property
    def items(self) -> int:
        return len(self.template_ids)
