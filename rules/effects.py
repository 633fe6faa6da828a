"""Effects: what a rule plugin asks for. Plugins return them; only the engine writes.

Every effect names the `rule` that produced it and the `inputs` that decided it; the engine adds the plugin's name
and version, and stores that explanation with the ledger entry or the event record, so "why did I get 12 points?"
always has an answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping


@dataclass(frozen=True, kw_only=True)
class Effect:
    rule: str
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass(frozen=True, kw_only=True)
class AwardPoints(Effect):
    """Add `points` to the member as a new lot that expires at `expires_at`. `source` names what earned them
    (e.g. "points:order:o1"), so that a `TakeBackPoints` of the same source takes this lot's points first."""

    points: int
    expires_at: datetime
    reason: str
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class TakeBackPoints(Effect):
    """Take `points` back (a refund): from the lots of `source` first (the refunded order's own points, as its
    `AwardPoints` named them), then, for what was already spent of them, from the other lots, earliest expiry
    first. What the member no longer has becomes debt: later earnings repay it first, and redemption waits until
    it is repaid."""

    points: int
    reason: str
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpirePoints(Effect):
    """Write off whatever remains on the member's lots that are past their expiry at the event's time."""


@dataclass(frozen=True, kw_only=True)
class AddGrowth(Effect):
    """Change the member's growth value (tiers are graded on it). Negative for deductions; never below zero."""

    growth: int


@dataclass(frozen=True, kw_only=True)
class SetTier(Effect):
    """Put the member on tier `code`, held until `valid_until` (None: no end)."""

    code: str
    valid_until: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class SetPaidMembership(Effect):
    """The member's paid membership runs until `until`."""

    until: datetime


@dataclass(frozen=True, kw_only=True)
class Once(Effect):
    """Remember that something happened for this member, so a rule fires only once.

    Keys start with the plugin's own name (`points:checkin:2026-03-01`), so plugins never claim each other's.

    The marker is written with the other effects and must not exist yet: two events racing to claim the same key
    cannot both succeed. A rule checks `context.member.has(key)` before claiming it. Markers are forgotten after
    `keep_days`.
    """

    key: str
    keep_days: int = 400
    data: Mapping[str, Any] = field(default_factory=dict)  # what later events need to know (JSON-ready)
    # When the daily sweep should bring this member back to the rules (`siyu_member_due`), e.g. a commission's
    # refund window ending; None: never.
    due_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Emit(Effect):
    """Publish a follow-up event after the commit (tier.changed, notification.requested, ...).

    Its id is derived from the causing event, the plugin and `detail_type`, so a redelivery never duplicates it.

    `notification.requested` (detail: `kind` and what the message needs) goes out only for the event's own member,
    and only if their newest marketing-messages consent grants it; otherwise the engine keeps the request in the
    event's record, marked `suppressed` with the reason (rules/consent.py).
    """

    detail_type: str
    detail: Mapping[str, Any]


@dataclass(frozen=True, kw_only=True)
class IssueCoupon(Effect):
    """Give the member a coupon of the brand's template `template_id` (a template of the `coupons` plugin).

    Rule-issued coupons are a promise already made: they are issued even when the template's claim stock is out,
    and count toward it. Guard repeats yourself (a `Once` per tier, per year, per order)."""

    template_id: str
    reason: str
    to_member: str | None = None  # another member (an inviter's reward: the `referral` plugin's only); None: this one
    needs_member = True

    @property
    def owner(self) -> str | None:
        return "referral" if self.to_member is not None else None

    def announce(self, *, event_id: str, plugin: str, index: int, member_id: str) -> tuple[str, dict]:
        """Every coupon a rule gives goes out as `coupon.issued` (CONTRACT), whichever plugin gave it."""
        from plugins.coupons.model import rule_coupon_id

        return "coupon.issued", {"memberId": self.to_member or member_id, "templateId": self.template_id,
                                 "couponId": rule_coupon_id(event_id, plugin, index), "reason": self.reason}

    def check(self, *, brand, now, member) -> None:
        from plugins.coupons.model import templates

        if self.template_id not in templates(brand):
            raise ValueError(f"template {self.template_id!r} is not one of the brand's coupon templates")


@dataclass(frozen=True, kw_only=True)
class UseCoupon(Effect):
    """Mark the member's coupon `coupon_id` used by order `order_id`. It must be available at the event's time;
    a coupon is used exactly once (a second use fails the write and the event is evaluated again)."""

    coupon_id: str
    order_id: str
    needs_member = True

    def check(self, *, brand, now, member) -> None:
        coupon = next((c for c in member.coupons if c.coupon_id == self.coupon_id), None)
        if coupon is None or coupon.state(now) != "available":
            raise ValueError(f"coupon {self.coupon_id!r} is not available to this member")

    def project(self, member, now):
        from dataclasses import replace

        coupons = tuple(replace(c, status="used", used_at=now, order_id=self.order_id)
                        if c.coupon_id == self.coupon_id else c for c in member.coupons)
        return replace(member, holdings={**member.holdings, "coupons": coupons})


@dataclass(frozen=True, kw_only=True)
class Note(Effect):
    """Write nothing; record why a rule did not act (a coupon already used, a referral refused), so the event's
    explanation answers "why not?" as well as "why?"."""

    message: str


@dataclass(frozen=True, kw_only=True)
class BrandEffect(Effect):
    """An effect on the brand rather than on the member the event is about (crisis counters and alerts, in
    `plugins.crisis.model`). It stays out of that member's activity, which the member can read."""


@dataclass(frozen=True, kw_only=True)
class BrandEmit(Emit, BrandEffect):
    """A follow-up about the brand (`alert.raised`): no `memberId` is added, and the member never sees it."""


def describe(effect: Effect) -> dict[str, Any]:
    """A JSON-ready view of an effect, for summaries, explanations and dry runs."""
    body: dict[str, Any] = {"effect": effect.kind, "rule": effect.rule, "inputs": _jsonable(effect.inputs)}
    for name, value in vars(effect).items():
        if name not in ("rule", "inputs"):
            body[name] = _jsonable(value)
    return body


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return value
