"""Abuse limits: how many times one member may attempt an action in a window of time.

An attempt counts whether or not it succeeds (a coupon-farming script fails most of its tries): call
`count_attempt` before doing the work. Windows are fixed and aligned to the epoch, so every container counts the
same window, and each window's counter is its own item that expires by itself.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Mapping, Protocol

from rules.errors import RateLimited

CHECK_IN = "checkIn"
REDEEM_POINTS = "redeemPoints"
PAY_WITH_POINTS = "payWithPoints"
SET_CONSENT = "setConsent"
UPDATE_PROFILE = "updateProfile"
BIND_PHONE = "bindPhone"
LOGIN_WITH_WECHAT = "loginWithWechat"  # counted per brand and client (no member yet): api/login_limits.py

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


@dataclass(frozen=True)
class AttemptLimit:
    attempts: int
    window: timedelta


# Far above what a person does by hand (one check-in a day, a few orders), low enough that a script hammering one
# account is stopped within minutes. Override per deployment with SIYU_ATTEMPT_LIMITS. The families add their own
# actions' limits (`Family.limits`): `default_limits()`.
DEFAULT_LIMITS: Mapping[str, AttemptLimit] = {
    CHECK_IN: AttemptLimit(10, timedelta(hours=1)),
    REDEEM_POINTS: AttemptLimit(30, timedelta(hours=1)),
    PAY_WITH_POINTS: AttemptLimit(30, timedelta(hours=1)),
    SET_CONSENT: AttemptLimit(20, timedelta(hours=1)),
    UPDATE_PROFILE: AttemptLimit(20, timedelta(hours=1)),
    BIND_PHONE: AttemptLimit(10, timedelta(hours=1)),  # each try costs a WeChat call
    # Per brand and client address: carrier-grade NAT puts many phones behind one address, so this is generous;
    # it stops a script from registering members (and calling WeChat) by the thousand.
    LOGIN_WITH_WECHAT: AttemptLimit(30, timedelta(minutes=5)),
}


def default_limits() -> dict[str, AttemptLimit]:
    """The core's limits and the families' (a coupon claim, a referral code guess)."""
    from rules.family import families

    return {**DEFAULT_LIMITS, **families().limits}


class AttemptCounter(Protocol):
    def count_attempt(self, brand_id: str, member_id: str, action: str, *, window_start: datetime, limit: int,
                      expires_at: datetime, live_member: bool = False) -> bool:
        """Add one attempt to this window's counter unless it already holds `limit`; False when it does."""

    def release_attempt(self, brand_id: str, member_id: str, action: str, *, window_start: datetime) -> None:
        """Take one attempt off this window's counter (never below zero)."""


def window(now: datetime, length: timedelta) -> tuple[datetime, datetime]:
    """The fixed window holding `now`: [start, end)."""
    seconds = int(length.total_seconds())
    elapsed = int((now - _EPOCH).total_seconds())
    start = _EPOCH + timedelta(seconds=elapsed - elapsed % seconds)
    return start, start + length


def count_attempt(store: AttemptCounter, brand_id: str, member_id: str, action: str, *, now: datetime,
                  limits: Mapping[str, AttemptLimit] | None = None, live_member: bool = False) -> None:
    """Count one attempt of `action` by the member; raise `RateLimited` (nothing counted) past the limit. With
    `live_member`, raise `MemberNotFound` (nothing counted) for a member who does not exist or was erased."""
    limit = (default_limits() if limits is None else limits).get(action)
    if limit is None:
        raise ValueError(f"no attempt limit for action {action!r}")  # a wiring mistake, not a member's
    start, end = window(now, limit.window)
    # The counter outlives its window by one window, so DynamoDB's lazy TTL deletion never removes a live one.
    if not store.count_attempt(brand_id, member_id, action, window_start=start, limit=limit.attempts,
                               expires_at=end + limit.window, live_member=live_member):
        raise RateLimited(action, retry_after_seconds=max(1, math.ceil((end - now).total_seconds())))


def release_attempt(store: AttemptCounter, brand_id: str, member_id: str, action: str, *, now: datetime,
                    limits: Mapping[str, AttemptLimit] | None = None) -> None:
    """Give back one counted attempt of `action` (the request was refused as `Busy`: the member did nothing)."""
    limit = (default_limits() if limits is None else limits).get(action)
    if limit is None:
        return
    start, _ = window(now, limit.window)
    store.release_attempt(brand_id, member_id, action, window_start=start)
