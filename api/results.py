"""What every part of the schema shares: the typed business failures (`BusinessError` and its kinds), the page
info of every connection, and the page-size check. The families' GraphQL halves build on these too."""


from typing import Any, Optional

import strawberry
from strawberry.types import Info

from api.request import BAD_USER_INPUT, graphql_error, language
from rules import errors

MAX_PAGE = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: Optional[str]


def check_page_size(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise graphql_error("invalid.page_size", BAD_USER_INPUT, max=MAX_PAGE)


@strawberry.interface(description="A business failure: the request was understood and refused; nothing was written.")
class BusinessError:
    code: str = strawberry.field(description="The stable code a client branches on (never translated).")
    # What to say: a domain error or a `Sentence`, rendered in the request's language when the field is read.
    _failure: strawberry.Private[Any]

    @strawberry.field(description="A sentence to show the member, in the request's language (`Accept-Language`; "
                                  "Chinese by default, English on `en`).")
    def message(self, info: Info) -> str:
        return self._failure.render(language(info))


@strawberry.type
class InvalidInput(BusinessError):
    field: str = strawberry.field(description="The input field at fault.")


@strawberry.type
class AlreadyRegistered(BusinessError):
    field: str = strawberry.field(description="phone, openid or unionid.")


@strawberry.type
class InsufficientPoints(BusinessError):
    requested: int
    available: int


@strawberry.type
class PointsDebtOutstanding(BusinessError):
    debt: int


@strawberry.type
class IdempotencyKeyReused(BusinessError):
    key: str


@strawberry.type
class MemberNotFound(BusinessError):
    member_id: strawberry.ID


@strawberry.type
class BrandNotConfigured(BusinessError):
    brand_id: str


@strawberry.type
class EntryNotFound(BusinessError):
    entry_id: strawberry.ID


@strawberry.type
class EntryNotReversible(BusinessError):
    entry_id: strawberry.ID
    reason: str


@strawberry.type
class Busy(BusinessError):
    pass


@strawberry.type
class PointsPaymentTooLarge(BusinessError):
    max_points: int
    max_fen: int


@strawberry.type
class TooManyLots(BusinessError):
    lots: int
    limit: int


@strawberry.type(description="Too many attempts of this action by this member in a short time; nothing was done.")
class RateLimited(BusinessError):
    action: str
    retry_after_seconds: int = strawberry.field(description="When the member may try again.")


@strawberry.type(description="WeChat refused the login code (unknown, used or expired): call wx.login() again.")
class InvalidLoginCode(BusinessError):
    pass


def business_error(error: errors.SiyuError) -> BusinessError:
    """The schema type for a domain failure."""
    common = {"code": error.code, "_failure": error}
    match error:
        case errors.InvalidInput():
            return InvalidInput(**common, field=error.field)
        case errors.AlreadyRegistered():
            return AlreadyRegistered(**common, field=error.field)
        case errors.InsufficientPoints():
            return InsufficientPoints(**common, requested=error.requested, available=error.available)
        case errors.PointsDebtOutstanding():
            return PointsDebtOutstanding(**common, debt=error.debt)
        case errors.IdempotencyKeyReused():
            return IdempotencyKeyReused(**common, key=error.key)
        case errors.MemberNotFound():
            return MemberNotFound(**common, member_id=strawberry.ID(error.member_id))
        case errors.BrandNotConfigured():
            return BrandNotConfigured(**common, brand_id=error.brand_id)
        case errors.EntryNotFound():
            return EntryNotFound(**common, entry_id=strawberry.ID(error.entry_id))
        case errors.EntryNotReversible():
            return EntryNotReversible(**common, entry_id=strawberry.ID(error.entry_id), reason=error.reason)
        case errors.Busy():
            return Busy(**common)
        case errors.PointsPaymentTooLarge():
            return PointsPaymentTooLarge(**common, max_points=error.max_points, max_fen=error.max_fen)
        case errors.TooManyLots():
            return TooManyLots(**common, lots=error.lots, limit=error.limit)
        case errors.RateLimited():
            return RateLimited(**common, action=error.action, retry_after_seconds=error.retry_after_seconds)
        case errors.InvalidLoginCode():
            return InvalidLoginCode(**common)
    raise TypeError(f"no schema type for {type(error).__name__}")
