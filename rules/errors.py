"""Business failures. Each becomes a typed result in the GraphQL schema, never a 500.

They are raised by the pure planners and services in `rules/` and caught by the adapters (`api/`, `events/`).
"""

from __future__ import annotations


class SiyuError(Exception):
    """A business failure with a stable code and a message a front end can show."""

    code = "ERROR"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SiyuError):
    code = "INVALID_INPUT"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(SiyuError):
    code = "NOT_FOUND"


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"

    def __init__(self, member_id: str) -> None:
        super().__init__(f"no member {member_id} in this brand")
        self.member_id = member_id


class BrandNotConfigured(NotFound):
    code = "BRAND_NOT_CONFIGURED"

    def __init__(self, brand_id: str) -> None:
        super().__init__(f"brand {brand_id} has no configuration")
        self.brand_id = brand_id


class AlreadyRegistered(SiyuError):
    """The phone number, openid or unionid already belongs to a member of this brand."""

    code = "ALREADY_REGISTERED"

    def __init__(self, field: str) -> None:
        super().__init__(f"a member of this brand is already registered with this {field}")
        self.field = field


class InsufficientPoints(SiyuError):
    code = "INSUFFICIENT_POINTS"

    def __init__(self, requested: int, available: int) -> None:
        super().__init__(f"{requested} points requested, {available} available")
        self.requested = requested
        self.available = available


class PointsDebtOutstanding(SiyuError):
    """Refunds took back points the member had already spent: nothing can be redeemed until that is repaid."""

    code = "POINTS_DEBT_OUTSTANDING"

    def __init__(self, debt: int) -> None:
        super().__init__(f"{debt} points are owed from refunded orders; new earnings repay them first")
        self.debt = debt


class IdempotencyKeyReused(SiyuError):
    """The same idempotency key came back with a different request: refusing rather than guessing."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a different request")
        self.key = key


class EntryNotFound(NotFound):
    code = "ENTRY_NOT_FOUND"

    def __init__(self, entry_id: str) -> None:
        super().__init__(f"no ledger entry {entry_id} for this member")
        self.entry_id = entry_id


class EntryNotReversible(SiyuError):
    code = "ENTRY_NOT_REVERSIBLE"

    def __init__(self, entry_id: str, reason: str) -> None:
        super().__init__(f"entry {entry_id} cannot be reversed: {reason}")
        self.entry_id = entry_id
        self.reason = reason


class WriteConflict(Exception):
    """Another writer changed what a plan was based on; the caller re-reads and plans again."""


class StoreUnavailable(WriteConflict):
    """The database did not answer this time (another transaction held an item, throttling, a timeout): read
    again and retry, like a conflict; past the retry budget the caller answers `Busy`."""


class Busy(SiyuError):
    """Too many concurrent writers kept winning; the request changed nothing and can be retried."""

    code = "BUSY"


class TooManyLots(SiyuError):
    """One operation would have to touch more lots than one atomic write can hold."""

    code = "TOO_MANY_LOTS"

    def __init__(self, lots: int, limit: int) -> None:
        super().__init__(f"this would touch {lots} points lots; at most {limit} can change at once, "
                         "so spend in smaller amounts")
        self.lots = lots
        self.limit = limit


class PointsPaymentTooLarge(SiyuError):
    """Points may pay only part of an order (元气森林: at most 50%)."""

    code = "POINTS_PAYMENT_TOO_LARGE"

    def __init__(self, max_points: int, max_fen: int) -> None:
        super().__init__(f"points can pay at most {max_fen} fen of this order ({max_points} points)")
        self.max_points = max_points
        self.max_fen = max_fen


class CouponTemplateNotFound(NotFound):
    code = "COUPON_TEMPLATE_NOT_FOUND"

    def __init__(self, template_id: str) -> None:
        super().__init__(f"the brand has no coupon template {template_id}")
        self.template_id = template_id


class CouponNotEligible(SiyuError):
    """The member may not claim this coupon now; `reasons` says every why (rules.coupons.Reason)."""

    code = "COUPON_NOT_ELIGIBLE"

    def __init__(self, template_id: str, reasons: list) -> None:
        super().__init__("; ".join(r.message for r in reasons) or "not eligible")
        self.template_id = template_id
        self.reasons = reasons


class RateLimited(SiyuError):
    """The member attempted this action too often in the current window; nothing was done."""

    code = "RATE_LIMITED"

    def __init__(self, action: str, retry_after_seconds: int) -> None:
        super().__init__(f"too many {action} attempts; try again in {retry_after_seconds} seconds")
        self.action = action
        self.retry_after_seconds = retry_after_seconds


class InvalidLoginCode(SiyuError):
    """WeChat refused the mini-program login code (unknown, already used, or expired)."""

    code = "INVALID_LOGIN_CODE"

    def __init__(self, message: str = "the login code is invalid, used or expired: call wx.login() again") -> None:
        super().__init__(message)
