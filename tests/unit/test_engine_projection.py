"""What the next plugin sees after an award (the engine's projection, issue 15) is what the ledger itself would
make of it: `ledger.earn` then `ledger.applied`, lot for lot, whatever the member owes or holds."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from rules import effects as fx
from rules import engine, ledger
from rules.ledger import Lot, PointsState

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


def the_ledgers_answer(points: PointsState, award: fx.AwardPoints) -> PointsState:
    earned = ledger.earn(points, points=award.points, now=NOW, expires_at=award.expires_at,
                         entry_id=f"pending-{len(points.lots)}", source=award.source)
    return ledger.applied(points, earned)


def lot(lot_id: str, remaining: int, days: int = 100, listed: bool = False) -> Lot:
    return Lot(lot_id, remaining + 5, remaining, NOW - timedelta(days=3), NOW + timedelta(days=days),
               source=f"points:order:{lot_id}", listed=listed)


TEN_LOTS = tuple(lot(f"2026{n:02d}-x", 10 * n, days=n, listed=n == 1) for n in range(1, 11))
STATES = [
    PointsState(0),
    PointsState(550, TEN_LOTS),
    PointsState(550, TEN_LOTS, debt=30),  # a debt the award repays first, in part
    PointsState(0, (), debt=500),  # a debt larger than the award: the new lot holds nothing
    PointsState(20, (lot("a", 10), lot("a", 10))),  # one id twice: the ledger keeps one
    PointsState(10, (lot("pending-1", 10),)),  # a lot named like the pending one: the award replaces it
    PointsState(10, [lot("b", 10)]),  # lots in a list, not a tuple
]
AWARDS = [
    fx.AwardPoints(points=128, expires_at=NOW + timedelta(days=365), reason="order o1", rule="points-per-yuan",
                   source="points:order:o1"),
    fx.AwardPoints(points=1, expires_at=NOW + timedelta(seconds=1), reason="check-in", rule="check-in-points"),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("award", AWARDS)
def test_a_member_who_earns_points_for_an_order_is_seen_with_them_by_the_next_plugin(state, award):
    projected = engine._earned(state, award, NOW)
    expected = the_ledgers_answer(state, award)
    assert projected == expected
    assert type(projected.lots) is type(expected.lots)
    assert projected.spendable(NOW) == expected.spendable(NOW)


def test_each_plugin_is_given_the_same_context_the_dataclass_itself_would_build():
    from dataclasses import fields
    from types import MappingProxyType

    from rules.brands import BrandConfig, TierLevel
    from rules.context import Decided, RuleContext

    assert engine._PLAIN_CONTEXT  # else the shortcut is never taken and this test proves nothing
    brand = BrandConfig("b", "b", (TierLevel("PU", "普卡", 0),))
    decided = (Decided("points", "1.0.0", AWARDS[0]),)
    args = (brand, MappingProxyType({"pointsPerYuan": 1}), NOW, None, MappingProxyType({}), decided)
    fast, slow = engine._context(*args), RuleContext(*args)
    assert type(fast) is RuleContext
    assert fast == slow
    assert fast.__dict__ == slow.__dict__ and list(fast.__dict__) == list(slow.__dict__)
    assert [getattr(fast, f.name) for f in fields(RuleContext)] == list(args)
    with pytest.raises(AttributeError):
        fast.now = NOW  # still frozen
    assert fast.for_plugin({"x": 1}).params == {"x": 1}
    assert fast.local_date() == slow.local_date()
