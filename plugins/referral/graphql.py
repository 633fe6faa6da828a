"""GraphQL types for referrals: whom a member invited, who invited them, their commissions in fen."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Union

import strawberry

from api.enums import CommissionState, ReferralRefusal

from api.types import BusinessError, Busy, InvalidInput, MemberNotFound, RateLimited


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
