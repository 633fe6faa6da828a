"""Closed sets of values the schema exposes, as GraphQL enums (UPPER_CASE names; the Python values are what the
domain stores). The lowercase `String` fields they replace stay one release, deprecated (README, "Schema changes
and deprecations")."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=Enum)


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


@strawberry.enum(description="A commission waits out the refund window (PENDING), then is paid (SETTLED).")
class CommissionState(Enum):
    PENDING = "pending"
    SETTLED = "settled"


@strawberry.enum(description="What a points ledger entry did.")
class PointsEntryType(Enum):
    EARN = "earn"
    REDEEM = "redeem"
    ADJUST = "adjust"
    REVERSE = "reverse"
    EXPIRE = "expire"
    TAKE_BACK = "take_back"
    REPAY = "repay"
    IMPORT = "import"


@strawberry.enum(description="How an audited staff call ended: STARTED is written before it runs (no change "
                             "without it), then OK, REFUSED (a typed business refusal) or ERROR.")
class AuditOutcome(Enum):
    STARTED = "started"
    OK = "ok"
    REFUSED = "refused"
    ERROR = "error"


@strawberry.enum(description="What the engine did (or would do) with an event.")
class EventOutcome(Enum):
    SIMULATED = "simulated"
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    IGNORED = "ignored"
    FAILED = "failed"
    INVALID = "invalid"  # a dry run with proposed parameters that would not be saved


@strawberry.enum(description="Where a member joined or gave consent: mini-program, H5 page, WeCom or a store.")
class Channel(Enum):
    MINIPROGRAM = "miniprogram"
    H5 = "h5"
    WECOM = "wecom"
    STORE = "store"


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


@strawberry.enum(description="Why a referral code was not bound (ReferralRefused.reason).")
class ReferralRefusal(Enum):
    UNKNOWN_CODE = "UNKNOWN_CODE"
    SELF_REFERRAL = "SELF_REFERRAL"
    LOOP = "LOOP"
    ALREADY_BOUND = "ALREADY_BOUND"
    ALREADY_REFERRED = "ALREADY_REFERRED"
    WINDOW_CLOSED = "WINDOW_CLOSED"
    NOT_ENABLED = "NOT_ENABLED"


def enum_of(kind: type[E], value: str | None) -> E | None:
    """The enum member for a stored value (None for none)."""
    return None if value is None else kind(value)
