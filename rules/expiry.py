"""Expiry policies for earned points (the `points_expiry` plugin's parameters choose one per brand)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Mapping
from zoneinfo import ZoneInfo


def expiry_for(params: Mapping[str, Any], earned_at: datetime, timezone: str) -> datetime:
    """When points earned at `earned_at` expire under this brand's policy."""
    if params.get("policy", "rolling") == "rolling":
        return earned_at + timedelta(days=params.get("days", 365))
    local = earned_at.astimezone(ZoneInfo(timezone))
    after = params.get("periodsAfter", 1)
    if params.get("period", "year") == "year":
        start = datetime(local.year + after + 1, 1, 1, tzinfo=local.tzinfo)
    else:
        quarter = (local.month - 1) // 3 + after + 1
        start = datetime(local.year + quarter // 4, quarter % 4 * 3 + 1, 1, tzinfo=local.tzinfo)
    return start.astimezone(earned_at.tzinfo)


def expiry_for_brand(brand: Any, earned_at: datetime) -> datetime:
    """When points a member gets at `earned_at` expire: the `points_expiry` plugin's policy if the brand enabled it,
    else the brand's default validity in days. Earned and staff-added points alike."""
    policy = brand.plugins.get("points_expiry")
    if policy is not None:
        return expiry_for(policy, earned_at, brand.timezone)
    return earned_at + timedelta(days=brand.points_validity_days)
