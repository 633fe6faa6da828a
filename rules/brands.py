"""A brand's configuration: its tier ladder and the defaults its rules start from.

The ladder is data, not code: 百果园 runs 普卡/银卡/金卡/钻卡 on growth value, 喜茶 runs VIP1..VIP5, and a brand can
change its thresholds without a deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Mapping

from rules.errors import InvalidInput


@dataclass(frozen=True)
class TierLevel:
    code: str
    name: str
    threshold: int  # growth value at which a member reaches this tier
    deduction: int = 0  # growth taken away when the tier's validity ends without an upgrade
    # What the tier gives, as data other rules read: e.g. {"pointsMultiplier": 1.5, "upgradeGiftCoupon": "T-GIFT",
    # "birthdayCoupon": "T-BDAY", "discountPercent": 10}.
    benefits: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RedemptionPolicy:
    """Paying with points (元气森林: 100 points = 1 yuan, at least 100 points, at most 50% of the order)."""

    points_per_yuan: int = 100
    minimum_points: int = 100
    max_share_of_order: float = 0.5

    def __post_init__(self) -> None:
        if self.points_per_yuan < 1:
            raise InvalidInput("redemption.pointsPerYuan", "invalid.at_least_one")
        if self.minimum_points < 1:
            raise InvalidInput("redemption.minimumPoints", "invalid.at_least_one")
        if not 0 < self.max_share_of_order <= 1:
            raise InvalidInput("redemption.maxShareOfOrder", "invalid.share_of_order")


@dataclass(frozen=True)
class BrandConfig:
    brand_id: str
    name: str
    tiers: tuple[TierLevel, ...]
    timezone: str = "Asia/Shanghai"
    points_validity_days: int = 365
    tier_validity_months: int = 6
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    redemption: RedemptionPolicy = field(default_factory=RedemptionPolicy)
    version: int = 0
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        validate_ladder(self.tiers)

    @property
    def entry_tier(self) -> TierLevel:
        return self.tiers[0]

    def tier(self, code: str | None) -> TierLevel:
        for level in self.tiers:
            if level.code == code:
                return level
        return self.entry_tier

    def tier_for_growth(self, growth: int) -> TierLevel:
        reached = self.entry_tier
        for level in self.tiers:
            if growth >= level.threshold:
                reached = level
        return reached

    def next_tier(self, code: str | None) -> TierLevel | None:
        current = self.tier(code)
        higher = [level for level in self.tiers if level.threshold > current.threshold]
        return higher[0] if higher else None


def validate_ladder(tiers: tuple[TierLevel, ...]) -> None:
    if not tiers:
        raise InvalidInput("tiers", "invalid.tiers_empty")
    if tiers[0].threshold != 0:
        raise InvalidInput("tiers[0].threshold", "invalid.entry_tier_threshold")
    codes = [t.code for t in tiers]
    if len(set(codes)) != len(codes):
        raise InvalidInput("tiers", "invalid.tier_codes_unique")
    for i in range(1, len(tiers)):
        if tiers[i].threshold <= tiers[i - 1].threshold:
            raise InvalidInput(f"tiers[{i}].threshold", "invalid.thresholds_rise")
    for i, t in enumerate(tiers):
        if t.deduction < 0:
            raise InvalidInput(f"tiers[{i}].deduction", "invalid.not_negative")


# 百果园's grade membership (DOMAIN.md 2.1 and 2.2): growth 1 per yuan, validity 6 months.
# Benefits (2.3): an upgrade gift pack at every new tier, a birthday coupon from 银卡 up.
BAIGUOYUAN_LADDER = (
    TierLevel("PU", "普卡", 0, 0),
    TierLevel("YIN", "银卡", 500, 300, {"upgradeGiftCoupon": "bgy-upgrade-yin", "birthdayCoupon": "bgy-birthday"}),
    TierLevel("JIN", "金卡", 2000, 1000, {"upgradeGiftCoupon": "bgy-upgrade-jin", "birthdayCoupon": "bgy-birthday"}),
    TierLevel("ZUAN", "钻卡", 5000, 3000, {"upgradeGiftCoupon": "bgy-upgrade-zuan", "birthdayCoupon": "bgy-birthday"}),
)
