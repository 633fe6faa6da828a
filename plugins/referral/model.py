"""Referrals and commissions: who invited whom, and the inviter's commission ledger in fen.

A binding is recorded on both sides: the invitee holds a `referral:bound` marker naming the inviter and the
inviter's own inviter (the upline, for a second level), the inviter holds a record of each invitee and a count.
Commissions are decided on the invitee's events (their orders, refunds, and the sweep when a refund window ends),
so one invitee's commission history is serialised by that invitee's version, and land on the inviter as:

- a commission record per invitee, order and level (`COMMISSION#`): accrued, clawed back, settled;
- a balance (`pending_fen`, `settled_fen`) that always equals the sum of the inviter's commission entries;
- immutable entries in the inviter's ledger partition: `accrue` (+pending), `settle` (pending -> settled),
  `claw_back` (-pending, or -settled for a refund inside the window that arrived after settlement).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Mapping

from rules import ids
from rules.brands import BrandConfig
from plugins.coupons.effects import IssueCoupon
from rules.effects import FamilyEffect

PLUGIN = "referral"
BOUND = f"{PLUGIN}:bound"
BIND_REFERRAL_CODE = "bindReferralCode"  # the attempt-limited action (rules/limits.py)
REFUSED_RULE = f"{PLUGIN}-refused"  # the rule of the Note saying why a code was refused


# ---- what the rules read -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralFacts:
    """What a binding decision needs, loaded for an event that carries a referral code."""

    code: str
    referrer_id: str | None  # None: no member of the brand has this code
    referrer_inviter: str | None = None  # who invited the referrer (a loop if it is the invitee)
    referrer_upline: str | None = None
    referrer_identities: frozenset[str] = frozenset()  # the referrer's openid / unionid
    referrer_invites: int = 0
    phone_already_referred: bool = False
    identity_already_referred: bool = False


@dataclass(frozen=True)
class InviterStanding:
    """The inviter as an order's commission needs them: their tags (KOL?) and their invitees' sales this month."""

    inviter_id: str
    tags: frozenset[str]
    month: str
    month_sales_fen: int
    version: int | None = None  # the inviter's version as read: their tags decided the rate


@dataclass(frozen=True)
class Commission:
    """One commission record, as the inviter holds it."""

    invitee_id: str
    order_id: str
    level: int
    accrued_fen: int
    clawed_fen: int
    settled_fen: int
    status: str  # pending, settled
    accrued_at: datetime
    settles_at: datetime


@dataclass(frozen=True)
class CommissionBalance:
    pending_fen: int = 0
    settled_fen: int = 0


@dataclass(frozen=True)
class Referred:
    """An invitee as the inviter sees them: an id and a date, nothing personal (their erasure must not reach into
    the inviter's items)."""

    invitee_id: str
    bound_at: datetime


# ---- effects -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BindReferral(FamilyEffect):
    """Bind this member to the inviter `referrer_id` (and their inviter `upline_id`, for a second level)."""

    referrer_id: str
    upline_id: str | None
    code: str
    invites_before: int  # the inviter's count as read: the write fails (and the event is re-evaluated) if it moved
    needs_member = True
    owner = PLUGIN


@dataclass(frozen=True, kw_only=True)
class AccrueCommission(FamilyEffect):
    """Owe `to_member` a pending commission for this member's order, settled when the refund window ends."""

    to_member: str
    order_id: str
    level: int
    fen: int
    order_fen: int
    settles_at: datetime
    month: str | None = None  # with `month_sales_before`: the inviter's month of sales this order adds to
    month_sales_before: int | None = None
    inviter_version: int | None = None  # with a KOL rate: the inviter (their tags) as read
    needs_member = True
    owner = PLUGIN

    def check(self, *, brand, now, member) -> None:
        _check_commission(self, member)


@dataclass(frozen=True, kw_only=True)
class SettleCommission(FamilyEffect):
    to_member: str
    order_id: str
    level: int
    fen: int
    clawed_before: int | None = None  # what refunds had taken back of this record as read: a condition of the write
    needs_member = True
    owner = PLUGIN

    def check(self, *, brand, now, member) -> None:
        _check_commission(self, member)


@dataclass(frozen=True, kw_only=True)
class ClawBackCommission(FamilyEffect):
    to_member: str
    order_id: str
    level: int
    fen: int
    from_settled: bool  # the refund fell inside the window but arrived after the sweep settled the commission
    clawed_before: int | None = None  # what refunds had taken back of this record as read: a condition of the write
    needs_member = True
    owner = PLUGIN

    def check(self, *, brand, now, member) -> None:
        _check_commission(self, member)


@dataclass(frozen=True, kw_only=True)
class InviterCoupon(IssueCoupon):
    """A coupon for the inviter (`to_member`), the referral family's reward: reserved to the `referral` plugin, so
    no other plugin can give someone else a coupon. Recorded and announced as any `IssueCoupon`."""

    owner = PLUGIN


def _check_commission(effect, member) -> None:
    if isinstance(effect.fen, bool) or not isinstance(effect.fen, int) or effect.fen <= 0:
        raise ValueError("fen must be a positive whole number of fen")
    if effect.level not in (1, 2):
        raise ValueError("commissions go at most two levels up")
    bound = member.marker(BOUND) or {}
    if effect.to_member != bound.get("referrer" if effect.level == 1 else "upline"):
        raise ValueError(f"level-{effect.level} commissions go to this member's own inviter chain")


# ---- side writes -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralBound:
    brand_id: str
    referrer_id: str
    invitee_id: str
    invitee_phone_hash: str | None
    invitee_identities: tuple[str, ...]
    at: datetime
    invites_before: int
    items: int = 5


@dataclass(frozen=True)
class CommissionEntry:
    """A side write on the inviter: one entry of their commission ledger, and what it does to the record and
    balance. `kind`: accrue, settle, claw_back."""

    brand_id: str
    inviter_id: str
    invitee_id: str
    order_id: str
    level: int
    kind: str
    fen: int
    bucket: str  # pending or settled: which balance the entry takes from (claw_back) or adds to (accrue)
    at: datetime
    entry_id: str
    event_id: str
    settles_at: datetime | None = None
    month: str | None = None
    order_fen: int = 0
    month_sales_before: int | None = None
    clawed_before: int | None = None  # settle and claw-back: the record's claw-backs as the plan read them
    inviter_version: int | None = None  # an accrual at a rate read from the inviter's tags

    @property
    def items(self) -> int:
        """Writes in the transaction: the entry, the record, the balance, and for an accrual the month's sales."""
        return (4 if self.kind == "accrue" and self.month is not None else 3) + (self.inviter_version is not None)


def plan_bind(effect: BindReferral, plan) -> Iterable[ReferralBound]:
    profile = plan.member.profile
    identities = tuple(i for i in (profile.openid_hash, profile.unionid_hash) if i)
    yield ReferralBound(plan.brand.brand_id, effect.referrer_id, profile.member_id, profile.phone_hash or None,
                        identities, plan.now, effect.invites_before)


def _entry(plan, effect, kind: str, bucket: str, **extra) -> CommissionEntry:
    return CommissionEntry(
        brand_id=plan.brand.brand_id, inviter_id=effect.to_member, invitee_id=plan.member.profile.member_id,
        order_id=effect.order_id, level=effect.level, kind=kind, fen=effect.fen, bucket=bucket, at=plan.now,
        entry_id=ids.entry_id(plan.now, f"{plan.event_id}:{plan.plugin}:{plan.index}"), event_id=plan.event_id,
        **extra)


def plan_accrue(effect: AccrueCommission, plan) -> Iterable[CommissionEntry]:
    yield _entry(plan, effect, "accrue", "pending", settles_at=effect.settles_at, month=effect.month,
                 order_fen=effect.order_fen, month_sales_before=effect.month_sales_before,
                 inviter_version=effect.inviter_version)


def plan_settle(effect: SettleCommission, plan) -> Iterable[CommissionEntry]:
    yield _entry(plan, effect, "settle", "pending", clawed_before=effect.clawed_before)


def plan_claw_back(effect: ClawBackCommission, plan) -> Iterable[CommissionEntry]:
    yield _entry(plan, effect, "claw_back", "settled" if effect.from_settled else "pending",
                 clawed_before=effect.clawed_before)


# ---- loading -----------------------------------------------------------------------------------------------------


def load_referral(store, brand: BrandConfig, event, state) -> Any:
    params = brand.plugins.get(PLUGIN)
    if params is None or state is None:
        return None
    detail_type = getattr(event, "detail_type", None)
    if detail_type in ("member.registered", "referral.code_entered"):
        code = event.get("referralCode")
        if not code or state.markers.get(BOUND) is not None:
            return None
        return store.referral_facts(brand.brand_id, str(code).strip().upper(), state.profile)
    bound: Mapping[str, Any] | None = state.markers.get(BOUND)
    if detail_type == "order.paid" and bound is not None and params.get("kolRates"):
            return store.inviter_standing(brand.brand_id, bound["referrer"], month_of(brand, event.time))
    return None


def month_of(brand: BrandConfig, at: datetime) -> str:
    """The brand-local calendar month of `at`, e.g. "2026-03" (a KOL's monthly sales restart at 00:00 brand-local
    on the 1st)."""
    from rules.months import month_label

    return month_label(at, brand.timezone)


def inviter_of(state: Any, *, code: str | None = None) -> str | None:
    """Who invited this member (None: nobody); with `code`, only if they were bound through that code."""
    bound = state.markers.get(BOUND)
    if bound is None or (code is not None and bound.get("code") != code):
        return None
    return bound["referrer"]


def refusal(effects: Iterable[Mapping[str, Any]]) -> str | None:
    """Why the referral plugin refused a code, from the effects of the event that carried it (None: not refused)."""
    refused = next((e for e in effects if e.get("rule") == REFUSED_RULE), None)
    return refused["inputs"]["refused"] if refused else None
