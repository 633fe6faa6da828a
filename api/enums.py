"""Closed sets of values the schema exposes, as GraphQL enums (UPPER_CASE names; the Python values are what the
domain stores). The lowercase `String` fields they replace stay one release, deprecated (README, "Schema changes
and deprecations")."""

from __future__ import annotations

from enum import Enum
from typing import TypeVar

import strawberry

E = TypeVar("E", bound=Enum)


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




def enum_of(kind: type[E], value: str | None) -> E | None:
    """The enum member for a stored value (None for none)."""
    return None if value is None else kind(value)
