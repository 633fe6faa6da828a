"""The stamp card: an effect that adds stamps, and the side write it plans."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar, Iterable

from rules.effects import FamilyEffect

CARD_SIZE = 10


@dataclass(frozen=True, kw_only=True)
class CollectStamps(FamilyEffect):
    """Add `stamps` to the member's card."""

    stamps: int
    needs_member: ClassVar[bool] = True

    def check(self, *, brand: Any, now: Any, member: Any) -> None:
        if not isinstance(self.stamps, int) or not 0 < self.stamps <= CARD_SIZE:
            raise ValueError("stamps must be a whole number from 1 to 10")

    def project(self, member: Any, now: Any) -> Any:
        held = sum(member.holdings.get("stamps", ()))
        return replace(member, holdings={**member.holdings, "stamps": (held + self.stamps,)})


@dataclass(frozen=True)
class StampsAdded:
    """A side write: add `stamps` to the member's card, in the event's transaction."""

    brand_id: str
    member_id: str
    stamps: int


def plan_collect(effect: CollectStamps, plan: Any) -> Iterable[StampsAdded]:
    yield StampsAdded(plan.brand.brand_id, plan.member.profile.member_id, effect.stamps)
