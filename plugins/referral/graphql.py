"""GraphQL types for referrals: whom a member invited, who invited them, their commissions in fen."""


from datetime import datetime
from typing import Annotated, Optional, Union

from enum import Enum

import strawberry


from api.descriptions import RESULT
from api.permissions import IsMember
from api.request import Context
from api.resolving import engine_event
from api.results import BusinessError, Busy, InvalidInput, MemberNotFound, RateLimited
from api.retry import typed
from plugins.referral import model
from rules import errors
from rules.members import MemberState
from rules.messages import Sentence
from strawberry.types import Info


@strawberry.enum(description="A commission waits out the refund window (PENDING), then is paid (SETTLED).")
class CommissionState(Enum):
    PENDING = "pending"
    SETTLED = "settled"


@strawberry.enum(description="Why a referral code was not bound (ReferralRefused.reason).")
class ReferralRefusal(Enum):
    UNKNOWN_CODE = "UNKNOWN_CODE"
    SELF_REFERRAL = "SELF_REFERRAL"
    LOOP = "LOOP"
    ALREADY_BOUND = "ALREADY_BOUND"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    WINDOW_CLOSED = "WINDOW_CLOSED"
    NOT_ENABLED = "NOT_ENABLED"


@strawberry.type(description="A member this member invited.")
class Referral:
    member_id: strawberry.ID
    bound_at: datetime


@strawberry.type(description="A commission on an invitee's order. `status`: pending (inside the refund window) or "
                             "settled.")
class CommissionRecord:
    invitee_id: strawberry.ID
    order_id: str
    level: int
    accrued_fen: int
    clawed_back_fen: int
    settled_fen: int
    state: CommissionState = strawberry.field(description="Pending until the refund window ends, then settled.")
    status: str = strawberry.field(description="pending or settled.",
                                   deprecation_reason="Use state (an enum); removed in the next release.")
    accrued_at: datetime
    settles_at: datetime


@strawberry.type(description="The member's commissions in fen: pending ones wait out the refund window.")
class Commissions:
    pending_fen: int
    settled_fen: int
    records: list[CommissionRecord]


@strawberry.type
class ReferralBound:
    referrer_id: strawberry.ID


@strawberry.type(description="The code was not bound. `reason`: UNKNOWN_CODE, SELF_REFERRAL, LOOP, ALREADY_BOUND, "
                             "ALREADY_REFERRED, WINDOW_CLOSED, NOT_ENABLED.")
class ReferralRefused(BusinessError):
    reason: ReferralRefusal


BindReferralResult = Annotated[
    Union[ReferralBound, ReferralRefused, InvalidInput, MemberNotFound, RateLimited, Busy],
    strawberry.union("BindReferralResult"),
]


# ---- the family's part of the schema (merged by api/schema.py) -----------------------------------------------------


@strawberry.type
class MemberFields:
    _state: strawberry.Private[MemberState]

    @strawberry.field(description="Members this member invited, newest first.")
    def referrals(self) -> list[Referral]:
        held = sorted(self._state.holdings.get("referrals", ()), key=lambda r: r.bound_at, reverse=True)
        return [Referral(member_id=strawberry.ID(r.invitee_id), bound_at=r.bound_at) for r in held]

    @strawberry.field(description="The member who invited this one (null: nobody).")
    def referred_by(self) -> Optional[strawberry.ID]:
        inviter = model.inviter_of(self._state)
        return strawberry.ID(inviter) if inviter else None

    @strawberry.field(description="Commissions earned on invitees' orders, in fen.")
    def commissions(self) -> Commissions:
        balance = self._state.holdings.get("commission_balance", ())
        records = sorted(self._state.holdings.get("commissions", ()), key=lambda c: c.accrued_at, reverse=True)
        return Commissions(
            pending_fen=balance[0].pending_fen if balance else 0, settled_fen=balance[0].settled_fen if balance else 0,
            records=[CommissionRecord(invitee_id=strawberry.ID(c.invitee_id), order_id=c.order_id, level=c.level,
                                      accrued_fen=c.accrued_fen, clawed_back_fen=c.clawed_fen,
                                      settled_fen=c.settled_fen, status=c.status, state=CommissionState(c.status),
                                      accrued_at=c.accrued_at,
                                      settles_at=c.settles_at) for c in records])


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsMember],
                         description="Bind the inviter whose code this is (within the brand's days after joining).")
    def bind_referral_code(self, info: Info, code: str) -> BindReferralResult:
        context: Context = info.context
        p = context.principal

        def run():
            brand = context.store.get_brand(p.brand_id)
            if brand is None or model.PLUGIN not in brand.plugins:
                return ReferralRefused(code="REFERRAL_REFUSED", _failure=Sentence("referral.NOT_ENABLED"),
                                       reason=ReferralRefusal.NOT_ENABLED)
            cleaned = code.strip().upper()
            if not 0 < len(cleaned) <= 32 or not cleaned.isalnum():
                raise errors.InvalidInput("code", "invalid.not_referral_code")
            context.attempt(model.BIND_REFERRAL_CODE)  # every guess runs the rules and writes: limited
            summary = engine_event(context, f"referral-{p.brand_id}-{p.subject}-{cleaned}-{context.now:%Y%m%d%H%M}",
                                    "referral.code_entered",
                                    {"brandId": p.brand_id, "memberId": p.subject, "referralCode": cleaned})
            if summary.status == "rejected":
                raise errors.MemberNotFound(p.subject)
            state = context.store.load_member(p.brand_id, p.subject, as_of=context.now)
            inviter = model.inviter_of(state, code=cleaned) if state else None
            if inviter is not None:
                return ReferralBound(referrer_id=strawberry.ID(inviter))
            reason = model.refusal(summary.effects) or "ALREADY_BOUND"
            return ReferralRefused(code="REFERRAL_REFUSED", _failure=Sentence(f"referral.{reason}"),
                                   reason=ReferralRefusal(reason))

        return typed(run, context)


# Descriptions of this family's types and fields (api/descriptions.py applies them with the core's).
DESCRIPTIONS: dict[str, str] = {
    "Mutation.bindReferralCode(code)": "The inviter's referral code.",
    "Referral.memberId": "The invited member.",
    "Referral.boundAt": "When they entered this member's code.",
    "Commissions.pendingFen": "Commissions waiting out the refund window, in fen.",
    "Commissions.settledFen": "Commissions settled, in fen.",
    "Commissions.records": "Each commission, newest first.",
    "CommissionRecord.inviteeId": "The invited member whose order earned it.",
    "CommissionRecord.orderId": "The order.",
    "CommissionRecord.level": "1: the member invited the buyer; 2: invited the buyer's inviter.",
    "CommissionRecord.accruedFen": "What the order earned, in fen.",
    "CommissionRecord.clawedBackFen": "What refunds took back, in fen.",
    "CommissionRecord.settledFen": "What was paid, in fen.",
    "CommissionRecord.accruedAt": "When the order earned it.",
    "CommissionRecord.settlesAt": "When the refund window ends and it settles.",
    "BindReferralResult": RESULT,
    "ReferralBound": "The inviter is bound to the member.",
    "ReferralBound.referrerId": "The inviter.",
    "ReferralRefused.reason": "The stable reason code.",
}
