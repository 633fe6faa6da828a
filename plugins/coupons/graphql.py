"""GraphQL types for coupons: what a member holds, what they may claim (and why not), claim results."""


from datetime import datetime
from typing import Annotated, Optional, Union

from enum import Enum

import strawberry

from strawberry.types import Info

from api.results import BrandNotConfigured, BusinessError, Busy, MemberNotFound, RateLimited, business_error
from api.descriptions import KEY, RESULT
from api.permissions import IsMember
from api.request import NOT_FOUND, Context, graphql_error, language
from api.resolving import configured_brand
from api.retry import typed
from rules.members import MemberState
from rules import errors
from plugins.coupons import model as coupons


@strawberry.enum(description="Where a coupon stands for its holder now.")
class CouponState(Enum):
    AVAILABLE = "available"
    USED = "used"
    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"


@strawberry.enum(description="What a coupon gives: an amount off (满减), a percentage off (折扣) or a gift.")
class CouponType(Enum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    GIFT = "gift"


@strawberry.enum(description="Why a member cannot claim a coupon now (IneligibilityReason.code).")
class CouponRefusal(Enum):
    NOT_CLAIMABLE = "NOT_CLAIMABLE"
    PAUSED = "PAUSED"
    NOT_STARTED = "NOT_STARTED"
    ENDED = "ENDED"
    OUT_OF_STOCK = "OUT_OF_STOCK"
    LIMIT_REACHED = "LIMIT_REACHED"
    TIER = "TIER"
    PAID_MEMBER = "PAID_MEMBER"
    NEW_MEMBER = "NEW_MEMBER"
    BIRTHDAY_MONTH = "BIRTHDAY_MONTH"
    TAGS = "TAGS"
    FIRST_ORDER = "FIRST_ORDER"
    STAGE = "STAGE"
    SEGMENTS = "SEGMENTS"


@strawberry.enum(description="How a member came to hold a coupon.")
class CouponOrigin(Enum):
    CLAIMED = "claimed"
    GIVEN_BY_RULE = "given_by_rule"


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
    source: str = strawberry.field(description="claim, or the rule plugin that gave it.",
                                   deprecation_reason="Use origin and givenBy; removed in the next release.")
    origin: CouponOrigin = strawberry.field(description="Claimed by the member, or given by a rule.")
    given_by: Optional[str] = strawberry.field(description="The rule plugin that gave it (null: claimed).")
    reason: str
    used_at: Optional[datetime]
    order_id: Optional[str]

    @classmethod
    def of(cls, c: coupons.Coupon, now: datetime) -> "Coupon":
        return cls(id=strawberry.ID(c.coupon_id), template_id=strawberry.ID(c.template_id), name=c.name,
                   kind=c.kind, coupon_type=CouponType(c.kind), state=CouponState(c.state(now)),
                   threshold_fen=c.threshold_fen, amount_fen=c.amount_fen, discount_percent=c.discount_percent,
                   gift=c.gift, status=c.state(now), valid_from=c.valid_from, valid_until=c.valid_until,
                   issued_at=c.issued_at, source=c.source,
                   origin=CouponOrigin.CLAIMED if c.source == coupons.CLAIMED else CouponOrigin.GIVEN_BY_RULE,
                   given_by=None if c.source == coupons.CLAIMED else c.source, reason=c.reason, used_at=c.used_at, order_id=c.order_id)


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
    if isinstance(error, coupons.CouponNotEligible):
        return CouponNotEligible(**common, template_id=error.template_id,
                                 reasons=[IneligibilityReason(code=CouponRefusal(r.code), _reason=r) for r in error.reasons])
    if isinstance(error, coupons.CouponTemplateNotFound):
        return CouponTemplateNotFound(**common, template_id=error.template_id)
    return business_error(error)


ClaimCouponResult = Annotated[
    Union[CouponClaimed, CouponNotEligible, CouponTemplateNotFound, MemberNotFound, BrandNotConfigured, RateLimited,
          Busy],
    strawberry.union("ClaimCouponResult"),
]


# ---- the family's part of the schema (merged by api/schema.py) -----------------------------------------------------


@strawberry.type
class MemberFields:
    _state: strawberry.Private[MemberState]
    _now: strawberry.Private[datetime]

    @strawberry.field(description="The member's coupons, newest first; `state` narrows them.")
    def coupons(
        self,
        state: Annotated[Optional[CouponState], strawberry.argument(description="Only coupons in this state.")]
        = None,
        status: Annotated[Optional[str], strawberry.argument(
            description="available, used, expired or not_yet_valid.",
            deprecation_reason="Use state (an enum); removed in the next release.")] = None,
    ) -> list[Coupon]:
        wanted = state.value if state is not None else status
        held = sorted(self._state.holdings.get("coupons", ()), key=lambda c: (c.issued_at, c.coupon_id), reverse=True)
        return [Coupon.of(c, self._now) for c in held if wanted is None or c.state(self._now) == wanted]


@strawberry.type
class Query:
    @strawberry.field(permission_classes=[IsMember],
                      description="Every coupon template of the brand, with whether the member may claim it now and, "
                                  "when not, every reason.")
    def coupon_offers(self, info: Info) -> list[CouponOffer]:
        context: Context = info.context
        p = context.principal
        brand = context.store.get_brand(p.brand_id)
        if brand is None:
            return []
        try:
            offers = coupons.offers(context.store, brand, p.subject, context.now)
        except errors.MemberNotFound:  # erased (or never registered) while the token still lives
            raise graphql_error("graphql.NOT_FOUND", NOT_FOUND) from None
        return [CouponOffer.of(o) for o in offers]


@strawberry.type
class Mutation:
    @strawberry.mutation(permission_classes=[IsMember],
                         description="Claim a coupon if the member is eligible; otherwise every reason, typed.")
    def claim_coupon(self, info: Info, template_id: str, idempotency_key: Optional[str] = None) -> ClaimCouponResult:
        context: Context = info.context
        p = context.principal

        def run():
            context.attempt(coupons.CLAIM_COUPON)
            brand = configured_brand(context)
            # With a key, a retried claim (a timeout, a double tap) returns the coupon it already got.
            request_id = f"key:{idempotency_key[:128]}" if idempotency_key else context.request_id
            coupon = coupons.claim(context.store, brand, p.subject, template_id[:64], context.now,
                                   request_id=request_id)
            return CouponClaimed(coupon=Coupon.of(coupon, context.now))

        return typed(run, context, coupon_error)


# Descriptions of this family's types and fields (api/descriptions.py applies them with the core's).
DESCRIPTIONS: dict[str, str] = {
    "Mutation.claimCoupon(templateId)": "The coupon template to claim (from `couponOffers`).",
    "Mutation.claimCoupon(idempotencyKey)": KEY,
    "Coupon.id": "The coupon's id.",
    "Coupon.templateId": "The template it was issued from.",
    "Coupon.name": "The coupon's name to show, e.g. 满100减20.",
    "Coupon.thresholdFen": "The order amount from which it applies, in fen (0: any order).",
    "Coupon.amountFen": "AMOUNT_OFF: the amount taken off, in fen.",
    "Coupon.gift": "GIFT: what is given.",
    "Coupon.validFrom": "From when it can be used.",
    "Coupon.validUntil": "Until when it can be used (exclusive).",
    "Coupon.issuedAt": "When the member got it.",
    "Coupon.reason": "Why it was given (claimed, a tier upgrade, a birthday...).",
    "Coupon.usedAt": "When it was used (null: not used).",
    "Coupon.orderId": "The order it was used on (null: not used).",
    "CouponTemplate": "A kind of coupon the brand gives.",
    "CouponTemplate.id": "The template's id (claim it by this id).",
    "CouponTemplate.name": "The coupon's name to show.",
    "CouponTemplate.thresholdFen": "The order amount from which it applies, in fen (0: any order).",
    "CouponTemplate.amountFen": "AMOUNT_OFF: the amount taken off, in fen.",
    "CouponTemplate.discountPercent": "PERCENT_OFF: the share paid, e.g. 75 for 75折.",
    "CouponTemplate.gift": "GIFT: what is given.",
    "CouponTemplate.perMemberLimit": "How many one member may ever get.",
    "CouponOffer.template": "The coupon on offer.",
    "CouponOffer.eligible": "True when the member may claim it now.",
    "ClaimCouponResult": RESULT,
    "CouponClaimed": "The coupon is the member's.",
    "CouponClaimed.coupon": "The coupon claimed.",
    "CouponNotEligible.templateId": "The template asked for.",
    "CouponNotEligible.reasons": "Every reason the member may not claim it.",
    "CouponTemplateNotFound": "The brand has no coupon template with this id.",
    "CouponTemplateNotFound.templateId": "The template asked for.",
}
