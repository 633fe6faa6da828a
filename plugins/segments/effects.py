"""What the segments family lets others read: a member's lifecycle stage and segments, as the member load holds them.

Other families (the coupons family's eligibility) and every plugin read them from `context.member` through these
functions; nothing here imports another family. The holding is written by the `segments` plugin in the same
transaction as the event that changed it, so reading it costs no extra query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

PLUGIN = "segments"
HOLDING = "segment_state"  # the member holding (`MemberView.holdings[HOLDING]`): at most one `SegmentState`

PROSPECT, NEW, ACTIVE, SLEEPING, DORMANT, LOST = "PROSPECT", "NEW", "ACTIVE", "SLEEPING", "DORMANT", "LOST"
STAGES = (PROSPECT, NEW, ACTIVE, SLEEPING, DORMANT, LOST)
STAGE_PREFIX = "STAGE_"  # a stage is also a segment: STAGE_DORMANT, so journeys and eligibility treat both alike


@dataclass(frozen=True)
class OrderFact:
    """One order as segmentation counts it: its time and amount, and what refunds took off it."""

    order_id: str
    at: datetime
    fen: int
    refunded_fen: int = 0
    refund_ids: tuple[str, ...] = ()

    @property
    def net_fen(self) -> int:
        return max(0, self.fen - self.refunded_fen)


@dataclass(frozen=True)
class SegmentState:
    """A member's stage and segments (code -> since), the orders they were computed from, and when the next
    time-driven change is due (the sweep's call back)."""

    stage: str
    stage_since: datetime
    segments: Mapping[str, datetime] = field(default_factory=dict)
    orders: tuple[OrderFact, ...] = ()
    first_order_at: datetime | None = None  # kept beyond the orders' window: NEW counts from the first order
    last_order_at: datetime | None = None
    next_due: datetime | None = None
    computed_at: datetime | None = None
    # The bucket of the brand's 12-month net spend distribution the member counts in (plugins/segments/model.py
    # `spend_bucket`); None: no net spend in 12 months, or not profiled.
    spend_bucket: int | None = None


def state_of(member: Any) -> SegmentState | None:
    """The member's segment state, or None if the `segments` plugin never judged them."""
    if member is None:
        return None
    held = member.holdings.get(HOLDING, ())
    return held[0] if held else None


def stage_of(member: Any) -> str | None:
    """The member's lifecycle stage (PROSPECT, NEW, ACTIVE, SLEEPING, DORMANT, LOST), None if never judged."""
    state = state_of(member)
    return state.stage if state else None


def segments_of(member: Any) -> Mapping[str, datetime]:
    """The member's segments (code -> since), stages included as STAGE_<stage>."""
    state = state_of(member)
    return dict(state.segments) if state else {}


def in_segment(member: Any, code: str) -> bool:
    return code in segments_of(member)


def unmet(member: Any, *, stages: Iterable[str] | None = None, segments: Iterable[str] | None = None) -> list[str]:
    """What of a requirement the member does not meet: "STAGE" (not in any of `stages`), "SEGMENTS" (not in all of
    `segments`). Empty: met. Used by coupon eligibility; any plugin may use it on `context.member`."""
    missing = []
    if stages and stage_of(member) not in set(stages):
        missing.append("STAGE")
    if segments and not set(segments) <= set(segments_of(member)):
        missing.append("SEGMENTS")
    return missing


def as_json(state: SegmentState) -> dict[str, Any]:
    """The state as stored (JSON-ready)."""
    return {
        "stage": state.stage, "stageSince": state.stage_since.isoformat(),
        "segments": {code: since.isoformat() for code, since in state.segments.items()},
        "orders": [{"id": o.order_id, "at": o.at.isoformat(), "fen": o.fen, "refunded": o.refunded_fen,
                    "refunds": list(o.refund_ids)} for o in state.orders],
        "firstOrderAt": state.first_order_at.isoformat() if state.first_order_at else None,
        "lastOrderAt": state.last_order_at.isoformat() if state.last_order_at else None,
        "nextDue": state.next_due.isoformat() if state.next_due else None,
        "computedAt": state.computed_at.isoformat() if state.computed_at else None,
        **({"spendBucket": state.spend_bucket} if state.spend_bucket is not None else {}),
    }


def from_json(data: Mapping[str, Any]) -> SegmentState:
    def when(value):
        return datetime.fromisoformat(value) if value else None

    return SegmentState(
        stage=data["stage"], stage_since=datetime.fromisoformat(data["stageSince"]),
        segments={code: datetime.fromisoformat(since) for code, since in (data.get("segments") or {}).items()},
        orders=tuple(OrderFact(o["id"], datetime.fromisoformat(o["at"]), int(o["fen"]), int(o.get("refunded", 0)),
                               tuple(o.get("refunds", ()))) for o in data.get("orders") or ()),
        first_order_at=when(data.get("firstOrderAt")), last_order_at=when(data.get("lastOrderAt")),
        next_due=when(data.get("nextDue")), computed_at=when(data.get("computedAt")),
        spend_bucket=data.get("spendBucket"),
    )
