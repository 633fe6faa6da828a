"""GraphQL types for coupons: what a member holds, what they may claim (and why not), claim results."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Optional, Union

import strawberry

from strawberry.types import Info

from api.enums import CouponRefusal, CouponState, CouponType
from api.types import BrandNotConfigured, BusinessError, Busy, MemberNotFound, RateLimited, business_error
from api.request import language
from rules import errors
from plugins.coupons import model as coupons


@strawberry.type(description="A coupon a member holds.")
class Coupon:
    id: strawberry.ID
    template_id: strawberry.ID
    name: str
    coupon_type: CouponType = strawberry.field(description="What the coupon gives.")
    state: CouponState = strawberry.field(description="Where the coupon stands now.")
    kind: str = strawberry.field(description="amount_off (满减), percent_off or gift.",
                                 deprecation_reason="Use couponType (an enum); removed in the next release.")
    threshold_fen: int
    amount_fen: int
    discount_percent: int = strawberry.field(description="percent_off: the share paid, e.g. 75 for 75折.")
    gift: Optional[str]
    status: str = strawberry.field(description="available, used, expired or not_yet_valid.",
                                   deprecation_reason="Use state (an enum); removed in the next release.")
    valid_from: datetime
    valid_until: datetime
    issued_at: datetime
    source: str = strawberry.field(description="claim, or the rule plugin that gave it.")
    reason: str
    used_at: Optional[datetime]
    order_id: Optional[str]

    @classmethod
    def of(cls, c: coupons.Coupon, now: datetime) -> "Coupon":
        return cls(id=strawberry.ID(c.coupon_id), template_id=strawberry.ID(c.template_id), name=c.name,
                   kind=c.kind, coupon_type=CouponType(c.kind), state=CouponState(c.state(now)),
                   threshold_fen=c.threshold_fen, amount_fen=c.amount_fen, discount_percent=c.discount_percent,
                   gift=c.gift, status=c.state(now), valid_from=c.valid_from, valid_until=c.valid_until,
                   issued_at=c.issued_at, source=c.source, reason=c.reason, used_at=c.used_at, order_id=c.order_id)


@strawberry.type(description="Why a member cannot claim a coupon: a stable code and a sentence to show.")
class IneligibilityReason:
    code: CouponRefusal = strawberry.field(description="The stable reason code.")
    _reason: strawberry.Private[coupons.Reason]

    @strawberry.field(description="The sentence to show, in the request's language (Chinese by default).")
    def message(self, info: Info) -> str:
        return self._reason.render(language(info))


@strawberry.type
class CouponTemplate:
    id: strawberry.ID
    name: str
    coupon_type: CouponType = strawberry.field(description="What the coupon gives.")
    kind: str = strawberry.field(description="amount_off, percent_off or gift.",
                                 deprecation_reason="Use couponType (an enum); removed in the next release.")
    threshold_fen: int
    amount_fen: int
    discount_percent: int
    gift: Optional[str]
    valid_days: Optional[int] = strawberry.field(description="Valid this many days from the claim...")
    valid_until: Optional[datetime] = strawberry.field(description="...or until this time.")
    per_member_limit: int

    @classmethod
    def of(cls, t: coupons.Template) -> "CouponTemplate":
        return cls(id=strawberry.ID(t.id), name=t.name, kind=t.kind, coupon_type=CouponType(t.kind), threshold_fen=t.threshold_fen, amount_fen=t.amount_fen,
                   discount_percent=t.discount_percent, gift=t.gift, valid_days=t.valid_days,
                   valid_until=t.valid_until, per_member_limit=t.per_member_limit)


@strawberry.type(description="A coupon template and whether the calling member may claim it now.")
class CouponOffer:
    template: CouponTemplate
    eligible: bool
    reasons: list[IneligibilityReason] = strawberry.field(description="Empty when eligible.")
    stock_left: Optional[int] = strawberry.field(description="Null: no stock limit.")

    @classmethod
    def of(cls, offer: coupons.Offer) -> "CouponOffer":
        return cls(template=CouponTemplate.of(offer.template), eligible=offer.eligible,
                   reasons=[IneligibilityReason(code=CouponRefusal(r.code), _reason=r) for r in offer.reasons],
                   stock_left=offer.stock_left)


@strawberry.type
class CouponClaimed:
    coupon: Coupon


@strawberry.type(description="The member may not claim this coupon; `reasons` lists every why.")
class CouponNotEligible(BusinessError):
    template_id: str
    reasons: list[IneligibilityReason]


@strawberry.type
class CouponTemplateNotFound(BusinessError):
    template_id: str


def coupon_error(error: errors.SiyuError) -> BusinessError:
    common = {"code": error.code, "_failure": error}
    if isinstance(error, errors.CouponNotEligible):
        return CouponNotEligible(**common, template_id=error.template_id,
                                 reasons=[IneligibilityReason(code=CouponRefusal(r.code), _reason=r) for r in error.reasons])
    if isinstance(error, errors.CouponTemplateNotFound):
        return CouponTemplateNotFound(**common, template_id=error.template_id)
    return business_error(error)


ClaimCouponResult = Annotated[
    Union[CouponClaimed, CouponNotEligible, CouponTemplateNotFound, MemberNotFound, BrandNotConfigured, RateLimited,
          Busy],
    strawberry.union("ClaimCouponResult"),
]
