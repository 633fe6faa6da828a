"""The engine makes its decisions, views, ledger lots and postings, records and follow-ups without the frozen
dataclasses' per-field setattrs (rules/plain.py, issue 15): each object is the one the class itself makes (type,
fields, their order, equality, hash, repr, still frozen), and a class whose `__init__` does more is left to it."""

from __future__ import annotations

import dataclasses
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import ClassVar

import pytest

from rules import context as ctx
from rules import effects as fx
from rules import engine, ledger, plain
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.context import Decided, MemberView, RuleContext, member_view
from rules.ledger import Allocation, Entry, EntryKind, Lot, PointsState, Posting
from rules.members import MemberProfile
from rules.events import BusinessEvent, Parsed
from rules.persistence import EventRecord, Marks, MemberChange, Standing

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
LOT = Lot("l1", 10, 7, NOW - timedelta(days=1), NOW + timedelta(days=300), source="points:order:o1")
ENTRY = Entry("e1", NOW, EntryKind.EARN, 10, (Allocation("l1", LOT.expires_at, 10),), reason="order o1")
PROFILE = MemberProfile("b1", "m1", "hash", "139****0000", "miniprogram", "R1", NOW - timedelta(days=400), "YIN",
                        NOW + timedelta(days=20), 700, birthday="--11-30", tags=("community",))
BRAND = BrandConfig("b1", "Brand", BAIGUOYUAN_LADDER, plugins={"points": {"pointsPerYuan": 1}})
AWARD = fx.AwardPoints(points=12, expires_at=NOW + timedelta(days=365), reason="order o1", rule="points-per-yuan",
                       inputs={"orderId": "o1"}, source="points:order:o1")
VIEW = member_view(PROFILE, PointsState(7, (LOT,)), {"points:order:o0": {"points": 3}})

# Each class the engine makes through a maker, with values for every field in order.
MADE = [
    (engine.Decision, ("points", "1.0.0", AWARD, None)),
    (engine.Decision, ("points", "1.0.0", AWARD, "no consent")),
    (Decided, ("points", "1.0.0", AWARD)),
    (Lot, ("l2", 5, 5, NOW, NOW + timedelta(days=365), None, False)),
    (Lot, ("l2", 5, 0, NOW, NOW + timedelta(days=365), "points:order:o2", True)),
    (Allocation, ("l2", NOW + timedelta(days=365), 5)),
    (Posting, ((ENTRY,), (LOT,), (), None, 0, 0, None)),
    (Posting, ((ENTRY,), (LOT,), (), "e0", -3, 3, (LOT,))),
    (PointsState, (7, (LOT,), 0)),
    (MemberView, tuple(getattr(VIEW, f.name) for f in dataclasses.fields(MemberView))),
    (RuleContext, (BRAND, MappingProxyType({"a": 1}), NOW, VIEW, MappingProxyType({}), ())),
    (EventRecord, ("ev1", "b1", "order.paid", NOW, ({"effect": "Once"},), (), ({"effect": "Once"},), "f" * 32,
                   "m1", 9900)),
    (MemberChange, (PROFILE, 3, None, Standing(700, "YIN", None), (("k", NOW, {}, None),), None, (), None, None)),
    (engine.Evaluation, ((), None, (), ())),
    (engine.Plan, ("ev1", NOW, BRAND, None, MappingProxyType({}), "points", 0)),
    (engine.FollowUp, ("f1", "tier.changed", NOW, {"from": "PU", "to": "YIN"})),
    (Standing, (700, "YIN", NOW, None)),
    (Standing, (0, "PU", None, NOW)),
    (Marks, ("o1", False, True)),
    (Marks, ("o1", False, False)),
    (BusinessEvent, ("ev1", "order.paid", "siyu.shop", NOW, "b1", MappingProxyType({"orderId": "o1"}))),
    (Parsed, (BusinessEvent("ev1", "order.paid", "siyu.shop", NOW, "b1", MappingProxyType({})),)),
]


@pytest.mark.parametrize("cls, values", MADE, ids=[f"{c.__name__}-{n}" for n, (c, _) in enumerate(MADE)])
def test_a_made_object_is_the_one_its_class_makes_from_the_same_values(cls, values):
    made = plain.maker(cls)
    assert made is not cls, f"{cls.__name__} is a plain frozen dataclass; its maker should not be the class"
    ours, theirs = made(*values), cls(*values)
    assert type(ours) is type(theirs)
    assert ours == theirs
    assert list(vars(ours).items()) == list(vars(theirs).items())  # the same fields, values and order
    assert repr(ours) == repr(theirs)
    try:
        expected_hash = hash(theirs)
    except TypeError:  # a field holds a dict: neither is hashable
        with pytest.raises(TypeError):
            hash(ours)
    else:
        assert hash(ours) == expected_hash
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(ours, dataclasses.fields(cls)[0].name, None)
    assert dataclasses.replace(ours) == theirs
    # Keyword arguments, as the call sites wrote them before, name the same fields the makers fill in order.
    assert ours == cls(**{f.name: v for f, v in zip(dataclasses.fields(cls), values)})


@dataclass(frozen=True)
class _Checked:
    points: int

    def __post_init__(self) -> None:
        if self.points < 0:
            raise ValueError("negative")


@dataclass(frozen=True)
class _HandWritten:
    points: int

    def __init__(self, points: int) -> None:
        object.__setattr__(self, "points", abs(points))


@dataclass(frozen=True)
class _Hidden:
    points: int
    seen: int = field(init=False, default=0)


@dataclass(frozen=True)
class _WithInitVar:
    points: int
    scale: InitVar[int] = 1


@dataclass(frozen=True)
class _WithClassVar:
    points: int
    limit: ClassVar[int] = 3


@dataclass(frozen=True, slots=True)
class _Slotted:
    points: int


@dataclass
class _Mutable:
    points: int


class _NotADataclass:
    def __init__(self, points: int) -> None:
        self.points = points


@pytest.mark.parametrize("cls", [_Checked, _HandWritten, _Hidden, _WithInitVar, _WithClassVar, _Slotted, _Mutable,
                                 _NotADataclass, Entry, BrandConfig])
def test_a_class_whose_init_does_more_than_store_its_fields_is_made_by_the_class_itself(cls):
    assert plain.maker(cls) is cls


def test_a_subclass_of_a_plain_dataclass_that_is_not_one_itself_is_made_by_itself():
    class Later(Lot):
        def __init__(self, *values):
            super().__init__(*values)

    assert plain.maker(Later) is Later


def test_the_member_view_is_the_one_the_keyword_call_made():
    holdings, consents, totals = {"coupons": ("c1",)}, {"marketing": True}, {"points:x": 4}
    daily = {"tiers:growth": {NOW.date(): 12}}
    points = PointsState(7, (LOT,))
    markers = {"points:order:o0": {"points": 3}}
    ours = member_view(PROFILE, points, markers, holdings, consents, totals, daily)
    theirs = MemberView(
        member_id=PROFILE.member_id, channel=PROFILE.channel, registered_at=PROFILE.registered_at,
        tier_code=PROFILE.tier_code, tier_valid_until=PROFILE.tier_valid_until, growth=PROFILE.growth,
        points=points, markers=markers, paid_until=PROFILE.paid_until, birthday=PROFILE.birthday,
        holdings=MappingProxyType(dict(holdings)), tags=frozenset(PROFILE.tags),
        identities=frozenset(i for i in (PROFILE.openid_hash, PROFILE.unionid_hash) if i),
        consents=MappingProxyType(dict(consents)), totals=MappingProxyType(dict(totals)),
        daily=MappingProxyType({name: MappingProxyType(dict(days)) for name, days in daily.items()}),
    )
    assert ours == theirs and list(vars(ours)) == list(vars(theirs))
    assert ctx.member_view(PROFILE, points, markers) == MemberView(
        member_id="m1", channel="miniprogram", registered_at=PROFILE.registered_at, tier_code="YIN",
        tier_valid_until=PROFILE.tier_valid_until, growth=700, points=points, markers=markers,
        birthday="--11-30", tags=frozenset({"community"}))


def test_a_context_for_another_plugin_is_the_one_replace_makes():
    context = RuleContext(BRAND, MappingProxyType({}), NOW, VIEW, MappingProxyType({"x": 1}), ())
    ours = context.for_plugin({"pointsPerYuan": 2})
    assert ours == dataclasses.replace(context, params=MappingProxyType({"pointsPerYuan": 2}))
    assert list(vars(ours)) == [f.name for f in dataclasses.fields(RuleContext)]


@pytest.mark.parametrize("debt", [0, 5, 50])
def test_an_earning_is_the_posting_the_keyword_calls_made(debt):
    state = PointsState(7, (LOT,), debt)
    ours = ledger.earn(state, points=12, now=NOW, expires_at=NOW + timedelta(days=365), entry_id="e2",
                       reason="order o2", actor="plugin:points@1", event_id="ev2", explanation={"rule": "r"},
                       source="points:order:o2")
    repaid = min(12, debt)
    lot = Lot(lot_id="e2", earned=12, remaining=12 - repaid, earned_at=NOW, expires_at=NOW + timedelta(days=365),
              source="points:order:o2")
    assert ours.new_lots == (lot,) and list(vars(ours.new_lots[0])) == list(vars(lot))
    assert ours.entries[0].allocations == (Allocation("e2", NOW + timedelta(days=365), 12),)
    if not debt:
        assert ours == Posting(entries=ours.entries, new_lots=(lot,))
        assert list(vars(ours)) == list(vars(Posting(entries=())))
    else:
        assert ours.debt_delta == -repaid and ours.debt_before == debt


def test_a_listing_is_the_posting_replace_makes_with_the_lots_it_lists():
    state = PointsState(7, (LOT,))
    earned = ledger.earn(state, points=12, now=NOW, expires_at=NOW + timedelta(days=365), entry_id="e2")
    listed = ledger.listing(state, earned, reminders_from=[NOW + timedelta(days=30)])
    assert listed == dataclasses.replace(earned, listed=listed.listed)
    assert listed.listed == (LOT,)  # the earliest holding lot, not yet listed; the new one expires later

    class Kept(Posting):
        pass

    other = Kept(entries=earned.entries, new_lots=earned.new_lots)
    assert type(ledger.listing(state, other)) is Kept  # anything but a Posting itself goes through replace()


def test_the_planner_of_an_effect_is_its_nearest_class_with_one_and_a_new_table_is_asked_afresh():
    class Base:  # not an Effect: other tests walk the effect classes' subclasses
        pass

    class Child(Base):
        pass

    def plan_base(effect, plan):
        return ()

    def plan_child(effect, plan):
        return ()

    table = {Base: plan_base}
    assert engine._planner(table, Child) is plan_base
    assert engine._planner(table, fx.Once) is None
    table = {Base: plan_base, Child: plan_child}  # another families' table
    assert engine._planner(table, Child) is plan_child
    table[fx.Once] = plan_base  # the same table grown
    assert engine._planner(table, fx.Once) is plan_base
    for kind in (Child, Base, fx.Once, fx.AwardPoints):
        assert engine._planner(table, kind) is next((table[k] for k in kind.__mro__ if k in table), None)
