"""The segments family's playbook (DOMAIN.md 1.2-1.4) with exact numbers: stages as days pass, a win-back coupon
exactly once however often things are delivered, a refund that moves a member down in the same event."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES
from plugins.segments.effects import stage_of, segments_of
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.consent import set_consent
from rules.sweeps import DAILY
from tests.helpers import business_event, order_paid, register, scheduled_event

DAY0 = datetime(2026, 1, 5, 2, 0, tzinfo=timezone.utc)
WIN_BACK = {"id": "bgy-winback", "name": "回归券", "kind": "amount_off", "thresholdFen": 5000, "amountFen": 2000,
            "validDays": 30, "claimable": False, "perMemberLimit": 10}


def day(n: int) -> datetime:
    return DAY0 + timedelta(days=n)


def new_brand(store, plugins, params) -> str:
    """A brand configured the day before the story starts: its sweep watermark starts there (as configureBrand
    sets it), on a table of its own so the sweep's day-by-day catch-up reads nothing of other tests."""
    brand = f"sg{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins=params))
    store.advance_watermark(DAILY, brand, read=None, to=day(-1))
    return brand


@pytest.fixture
def brand(fresh_table, store, plugins):
    enabled = {
        "coupons": plugins.validate_params("coupons", {"templates": [*BAIGUOYUAN_TEMPLATES, WIN_BACK]}),
        "segments": plugins.validate_params("segments", {"journeys": [
            {"id": "win-back", "segment": "STAGE_DORMANT", "couponTemplateId": "bgy-winback", "notify": "win_back",
             "cooldownDays": 90}]}),
    }
    return new_brand(store, plugins, enabled)


def pay(engine, brand, member, fen, at, order_id=None):
    order_id = order_id or uuid.uuid4().hex[:12]
    summary = engine.handle(business_event("order.paid", order_paid(brand, member, fen, order_id), time=at))
    assert summary.status == "applied", summary.reason
    return order_id


def sweep(engine, at, event_id=None):
    summary = engine.handle(scheduled_event(at, event_id=event_id))
    assert summary.status == "applied", summary.reason
    return summary


def stage(store, brand, member, at):
    return stage_of(store.load_member(brand, member, as_of=at))


def win_back_coupons(store, brand, member):
    state = store.load_member(brand, member)
    return [c for c in state.holdings.get("coupons", ()) if c.template_id == "bgy-winback"]


def test_orders_on_day_0_and_10_make_a_member_active_on_day_30_sleeping_41_dormant_191_lost_376(
        store, engine, brand):
    member = register(store, brand, day(-1))
    pay(engine, brand, member, 8800, day(0))
    assert stage(store, brand, member, day(0)) == "NEW"  # the first order, within 30 days
    pay(engine, brand, member, 6600, day(10))
    # The daily sweep runs every day; it calls the member back only on the days their stage changes.
    seen, runs = {}, {}
    for n in (29, 30, 39, 40, 41, 189, 190, 191, 374, 375, 376):  # each run catches up every day since the last
        runs[n] = sweep(engine, day(n))
        seen[n] = stage(store, brand, member, day(n))
    assert seen[29] == "NEW" and seen[30] == "ACTIVE"
    assert seen[40] == "SLEEPING" and seen[39] == "ACTIVE" and seen[41] == "SLEEPING"
    assert seen[189] == "SLEEPING" and seen[190] == "DORMANT" and seen[191] == "DORMANT"
    assert seen[374] == "DORMANT" and seen[375] == "LOST" and seen[376] == "LOST"
    # Over those 376 days the sweep wrote the member's segments on exactly the four days their stage changed.
    wrote = {n for n, run in runs.items() if any(e["effect"] == "UpdateSegments" for e in run.effects)}
    assert wrote == {30, 40, 190, 375}
    # And it reached the member on those days only: the reminder look-ahead queries just the reminder days a brand
    # chose (this one chose none), so no day before a change costs a read.
    assert {n for n, run in runs.items() if run.members} == {30, 40, 190, 375}
    state = store.load_member(brand, member)
    assert state.holdings["segment_state"][0].stage_since == day(10) + timedelta(days=365)


def test_a_member_turning_dormant_gets_exactly_one_win_back_coupon_however_often_events_and_sweeps_come(
        store, engine, brand):
    member = register(store, brand, day(-1))
    first = pay(engine, brand, member, 8800, day(0))
    # The same order announced again (a new event id) and the same event delivered twice change nothing.
    engine.handle(business_event("order.paid", order_paid(brand, member, 8800, first), time=day(0)))
    again = business_event("order.paid", order_paid(brand, member, 1000, "o-twice"), time=day(1))
    assert engine.handle(again).status == "applied"
    assert engine.handle(again).status == "duplicate"
    sweep(engine, day(160))
    for delivery in range(3):  # the day it turns dormant (day 181: 180 days after day 1), delivered three times
        sweep(engine, day(181) + timedelta(hours=1), event_id="sweep-181")
    sweep(engine, day(182) + timedelta(hours=1))
    sweep(engine, day(182) + timedelta(hours=1))  # a second run of the same day
    assert stage(store, brand, member, day(182)) == "DORMANT"
    assert len(win_back_coupons(store, brand, member)) == 1
    # The day-181 sweep delivered once more, and the old order event again: still one coupon for this entry.
    sweep(engine, day(181) + timedelta(hours=1), event_id="sweep-181")
    assert engine.handle(again).status == "duplicate"
    assert len(win_back_coupons(store, brand, member)) == 1


def test_the_dry_run_shows_why_a_journey_fires_or_does_not(fresh_table, store, plugins, engine):
    brand = new_brand(store, plugins, {
        "coupons": plugins.validate_params("coupons", {"templates": [WIN_BACK]}),
        "segments": plugins.validate_params("segments", {
            "lifecycle": {"newDays": 1, "sleepingDays": 5, "dormantDays": 10, "lostDays": 20},
            "journeys": [{"id": "welcome-back", "segment": "STAGE_ACTIVE", "couponTemplateId": "bgy-winback",
                          "cooldownDays": 60},
                         {"id": "first-order", "segment": "STAGE_NEW", "notify": "first_order_care"}]}),
    })
    member = register(store, brand, day(-1))
    pay(engine, brand, member, 8800, day(0))
    sweep(engine, day(2))  # NEW ended: ACTIVE, the journey gives its coupon
    assert stage(store, brand, member, day(2)) == "ACTIVE"
    assert len(win_back_coupons(store, brand, member)) == 1
    sweep(engine, day(6))
    assert stage(store, brand, member, day(6)) == "SLEEPING"

    def dry_run(who):
        summary = engine.simulate(business_event("order.paid", order_paid(brand, who, 5000, "o-dry"), time=day(7)))
        assert summary.status == "simulated"
        return [e for e in summary.effects if e["rule"] == "segment-journey"]

    # Back to ACTIVE within the 60-day cool-down: the journey would not run, and says so.
    [note] = dry_run(member)
    assert note["effect"] == "Note" and "cool-down" in note["message"] and note["inputs"]["journey"] == "welcome-back"
    # A member's first order: the first-order journey would run (its once-per-entry marker and its notification).
    newcomer = register(store, brand, day(-1))
    ran = dry_run(newcomer)
    assert [e["effect"] for e in ran] == ["Once", "Emit"]
    assert ran[1]["detail_type"] == "notification.requested" and ran[1]["detail"]["kind"] == "first_order_care"


def test_a_journey_inside_its_cool_down_is_noted_not_run(fresh_table, store, plugins, engine):
    brand = new_brand(store, plugins, {
        "coupons": plugins.validate_params("coupons", {"templates": [WIN_BACK]}),
        "segments": plugins.validate_params("segments", {"lifecycle": {"sleepingDays": 5, "dormantDays": 10},
                                                         "journeys": [{"id": "wake", "segment": "STAGE_SLEEPING",
                                                                       "couponTemplateId": "bgy-winback",
                                                                       "cooldownDays": 60}]}),
    })
    member = register(store, brand, day(-1))
    pay(engine, brand, member, 8800, day(0))
    sweep(engine, day(6))
    assert len(win_back_coupons(store, brand, member)) == 1
    pay(engine, brand, member, 8800, day(7))
    # Sleeping again on day 12, inside the 60-day cool-down: the dry run of that day's sweep is not available, so
    # the sweep itself is looked at: no coupon, and a Note saying why.
    summary = sweep(engine, day(13))
    assert len(win_back_coupons(store, brand, member)) == 1
    notes = [e for e in summary.effects if e["effect"] == "Note" and e["rule"] == "segment-journey"]
    assert notes and "cool-down" in notes[0]["message"]


def test_a_refund_that_takes_a_member_below_the_high_value_line_moves_them_down_in_the_same_event(
        store, engine, brand):
    member = register(store, brand, day(-1))
    set_consent(store, brand, member, purpose="behaviour_analytics", granted=True, policy_version="v1",
                now=day(-1), actor="member")
    pay(engine, brand, member, 300_000, day(0), "big-1")
    pay(engine, brand, member, 250_000, day(5), "big-2")  # 5,500 yuan in 12 months: over the 5,000 line
    segments = segments_of(store.load_member(brand, member, as_of=day(5)))
    assert "VALUE_HIGH" in segments
    refund = business_event("order.refunded", {"brandId": brand, "memberId": member, "orderId": "big-2",
                                               "amountFen": 60_000, "refundId": "r1"}, time=day(6))
    summary = engine.handle(refund)
    assert summary.status == "applied"
    segments = segments_of(store.load_member(brand, member, as_of=day(6)))
    assert "VALUE_HIGH" not in segments and "VALUE_MEDIUM" in segments  # 4,900 yuan net: below the line
    left = [e for e in summary.effects if e["effect"] == "BrandEmit" and e["detail_type"] == "segment.left"]
    assert {e["detail"]["segment"] for e in left} >= {"VALUE_HIGH"}
    # The same refund again (another event id, same refundId) is netted once.
    engine.handle(business_event("order.refunded", {"brandId": brand, "memberId": member, "orderId": "big-2",
                                                    "amountFen": 60_000, "refundId": "r1"}, time=day(6)))
    state = store.load_member(brand, member).holdings["segment_state"][0]
    assert sum(o.net_fen for o in state.orders) == 490_000


def test_without_analytics_consent_a_member_gets_a_stage_but_no_value_layer_or_persona(store, engine, brand):
    member = register(store, brand, day(-1))
    pay(engine, brand, member, 300_000, day(0))
    assert set(segments_of(store.load_member(brand, member, as_of=day(0)))) == {"STAGE_NEW"}
