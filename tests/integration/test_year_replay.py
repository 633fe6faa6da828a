"""Seven months replayed: orders, partial and full refunds and check-ins for two members, the daily sweep fired
every day at brand-local midnight, and the final balances, debts, growth, tiers and expired totals compared with a
plain calculation of the same rules written here, independently of the plugins."""

from __future__ import annotations

import calendar
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, order_paid, register, scheduled_event

START = datetime(2026, 1, 1, 16, 0, tzinfo=timezone.utc)  # midnight, 2 January, in Shanghai
DAYS = 215  # long enough for tiers reached in the first month to reach the end of their validity
VALID_DAYS = 90  # points expiry policy for this replay: rolling 90 days
TIER_MONTHS = 6  # calendar months in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")
LADDER = {t.code: t for t in BAIGUOYUAN_LADDER}


@dataclass
class Lot:
    remaining: int
    expires_at: datetime
    earned_at: datetime
    key: str
    order_id: str | None = None


@dataclass
class Member:
    """The rules, computed the plain way."""

    lots: list[Lot] = field(default_factory=list)
    debt: int = 0
    growth: int = 0
    tier: str = "PU"
    valid_until: datetime | None = None
    expired: int = 0
    orders: dict[str, dict] = field(default_factory=dict)
    checkins: set = field(default_factory=set)

    def balance(self):
        return sum(lot.remaining for lot in self.lots)

    def earn(self, points, at, key, order_id=None):
        repaid = min(points, self.debt)
        self.debt -= repaid
        self.lots.append(Lot(points - repaid, at + timedelta(days=VALID_DAYS), at, key, order_id))

    def take_back(self, points, at, order_id):
        usable = sorted((lot for lot in self.lots if lot.remaining > 0 and lot.expires_at > at),
                        key=lambda lot: (lot.order_id != order_id, lot.expires_at, lot.earned_at, lot.key))
        for lot in usable:
            take = min(lot.remaining, points)
            lot.remaining -= take
            points -= take
        self.debt += points

    def tier_for(self, growth):
        return max((t for t in BAIGUOYUAN_LADDER if growth >= t.threshold), key=lambda t: t.threshold).code

    def move(self, code, at):
        self.tier = code
        self.valid_until = None if code == "PU" else six_calendar_months_on(at)

    def judge(self, at):
        """Each tier validity that ended by `at`, judged at its end: the deduction, the re-grading, and the next
        validity counted from that end (whether the sweep or the member's next order or refund gets there first)."""
        while self.valid_until is not None and self.valid_until <= at:
            end = self.valid_until
            current = LADDER[self.tier]
            self.growth -= min(current.deduction, self.growth)
            regraded = min(current, LADDER[self.tier_for(self.growth)], key=lambda t: t.threshold)
            self.move(regraded.code, end)

    def order(self, order_id, fen, at):
        self.judge(at)
        points = growth = fen // 100
        self.orders[order_id] = {"fen": fen, "points": points, "growth": growth, "refunded": 0, "taken": 0,
                                 "growth_taken": 0}
        if points:
            self.earn(points, at, f"{at.isoformat()}-{order_id}", order_id)
        self.growth += growth
        reached = self.tier_for(self.growth)
        if LADDER[reached].threshold > LADDER[self.tier].threshold:
            self.move(reached, at)

    def refund(self, order_id, fen, at):
        self.judge(at)
        o = self.orders[order_id]
        o["refunded"] += fen
        owed = o["points"] * min(o["refunded"], o["fen"]) // o["fen"]
        if owed - o["taken"] > 0:
            self.take_back(owed - o["taken"], at, order_id)
        o["taken"] = owed
        owed_growth = o["growth"] * min(o["refunded"], o["fen"]) // o["fen"]
        take = min(owed_growth - o["growth_taken"], self.growth)
        o["growth_taken"] += take
        self.growth -= take
        regraded = self.tier_for(self.growth)
        if LADDER[regraded].threshold < LADDER[self.tier].threshold:
            self.move(regraded, at)

    def check_in(self, at):
        day = at.astimezone(SHANGHAI).date()
        if day not in self.checkins:
            self.checkins.add(day)
            self.earn(5, at, f"{at.isoformat()}-checkin")

    def sweep(self, at):
        self.judge(at)
        for lot in self.lots:
            if lot.remaining and lot.expires_at <= at:
                self.expired += lot.remaining
                lot.remaining = 0


def six_calendar_months_on(at):
    """00:00 in Shanghai on the same day of the month TIER_MONTHS months on (or that month's last day)."""
    day = at.astimezone(SHANGHAI).date()
    year, month = divmod(day.year * 12 + day.month - 1 + TIER_MONTHS, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime(year, month + 1, min(day.day, last), tzinfo=SHANGHAI).astimezone(timezone.utc)


def stream(rng: random.Random, member_ids):
    """(time, kind, member, detail) in time order: orders, refunds a few days after some of them, check-ins."""
    happenings = []
    for member in member_ids:
        for day in range(DAYS):
            base = START + timedelta(days=day, hours=1)
            if rng.random() < 0.35:
                at = base + timedelta(minutes=rng.randrange(0, 900))
                order_id, fen = f"o-{member[-6:]}-{day}", rng.randrange(1_000, 90_000)
                happenings.append((at, "order", member, {"orderId": order_id, "amountFen": fen}))
                if rng.random() < 0.3:
                    first = rng.choice([fen, fen // 2, fen // 3])
                    later = at + timedelta(days=rng.randrange(1, 6), minutes=7)
                    happenings.append((later, "refund", member, {"orderId": order_id, "amountFen": first}))
                    if first < fen and rng.random() < 0.5:
                        happenings.append((later + timedelta(days=1), "refund", member,
                                           {"orderId": order_id, "amountFen": fen - first}))
            for _ in range(rng.choice([0, 0, 1, 2])):
                happenings.append((base + timedelta(minutes=rng.randrange(0, 900)), "check_in", member, {}))
    return sorted(happenings, key=lambda h: h[0])


def test_seven_months_of_events_and_daily_sweeps_end_where_the_plain_calculation_does(
        fresh_table, store, plugins, bus):
    brand = "replay"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    configure_brand(store, plugins, brand, now=START, plugin_settings=[
        ("points", True, {"anniversaryMultiplier": 1, "engagement": {}}), ("tiers", True, {}),
        ("points_expiry", True, {"policy": "rolling", "days": VALID_DAYS, "remindDaysBefore": 0})])
    engine = Engine(store, plugins, bus)
    members = [register(store, brand, START - timedelta(days=10)) for _ in range(2)]
    model = {m: Member() for m in members}

    sweeps = [(START + timedelta(days=d), "sweep", None, {}) for d in range(1, DAYS + 1)]
    for at, kind, member, detail in sorted(stream(random.Random(20261125), members) + sweeps, key=lambda h: h[0]):
        if kind == "sweep":
            assert engine.handle(scheduled_event(at, event_id=f"sweep-{at.date()}")).status == "applied"
            for m in model.values():
                m.sweep(at)
            continue
        if kind == "order":
            event = business_event("order.paid", order_paid(brand, member, detail["amountFen"],
                                                            order_id=detail["orderId"]), time=at)
            model[member].order(detail["orderId"], detail["amountFen"], at)
        elif kind == "refund":
            event = business_event("order.refunded", {"brandId": brand, "memberId": member, **detail}, time=at)
            model[member].refund(detail["orderId"], detail["amountFen"], at)
        else:
            event = business_event("member.checked_in", {"brandId": brand, "memberId": member}, time=at)
            model[member].check_in(at)
        assert engine.handle(event).status == "applied"

    for member in members:
        state = store.load_member(brand, member)
        entries = store.entries(brand, member)
        expired = -sum(e.points for e in entries if e.kind.value == "expire")
        expected = model[member]
        assert (state.points.balance, state.points.debt, state.profile.growth, state.profile.tier_code, expired) == (
            expected.balance(), expected.debt, expected.growth, expected.tier, expected.expired)
        assert state.profile.tier_valid_until == expected.valid_until
        assert state.points.balance == sum(e.points for e in entries) == sum(l.remaining for l in state.points.lots)
    assert sum(m.expired for m in model.values()) > 0 and any(m.tier != "PU" for m in model.values())
