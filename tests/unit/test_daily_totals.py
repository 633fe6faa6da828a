"""Daily totals (`AddToDailyTotal`): a sum per brand-local day that later events read, kept for a bounded number of
calendar months; and the `tiers` plugin's rolling twelve months, graded on them (rules.testing, no database)."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

import plugins.tiers.plugin as tiers_plugin
from rules import daily_totals
from rules.effects import AddToDailyTotal
from rules.engine import PluginFailed
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo
from rules.testing import PluginCase, member

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args):
    return datetime(*args, tzinfo=SHANGHAI)


class SpendByDay:
    """A partner's rule: each order's yuan added to its brand-local day; `kind` picks a malformed addition."""

    def __init__(self, kind="good"):
        self.kind = kind

    @hookimpl
    def siyu_plugin_info(self):
        return PluginInfo("spend_by_day", "1.0.0")

    @hookimpl
    def siyu_order_paid(self, event, context):
        day, keep, name = context.local_date(), 3, "spend_by_day:yuan"
        if self.kind == "other plugin's name":
            name = "tiers:growth"
        elif self.kind == "forgotten day":
            day = date(2025, 11, 30)
        elif self.kind == "too long kept":
            keep = 25
        return [AddToDailyTotal(total=name, day=day, amount=event.get("amountFen") // 100, keep_months=keep,
                                rule="spend")]


def order(fen, order_id="o-1"):
    return {"orderId": order_id, "amountFen": fen, "channel": "miniprogram"}


def test_a_partner_plugins_daily_additions_are_what_the_next_event_reads_by_brand_local_day():
    case = PluginCase(SpendByDay())
    # 23:30 on 1 March in Shanghai is still 1 March there (15:30 UTC); 00:30 on the 2nd is the 1st by UTC.
    first = case.run("order.paid", order(12000), at=shanghai(2026, 3, 1, 23, 30))
    second = case.run("order.paid", order(3000, "o-2"), member=first.member, at=shanghai(2026, 3, 1, 23, 45))
    third = case.run("order.paid", order(500, "o-3"), member=second.member, at=shanghai(2026, 3, 2, 0, 30))
    assert third.member.daily == {"spend_by_day:yuan": {date(2026, 3, 1): 150, date(2026, 3, 2): 5}}


@pytest.mark.parametrize("kind, refused", [
    ("other plugin's name", "must start with 'spend_by_day:'"),
    ("forgotten day", "no longer kept"),
    ("too long kept", "keep_months must be 1 to 24"),
])
def test_a_malformed_daily_addition_fails_the_event_naming_the_plugin(kind, refused):
    with pytest.raises(PluginFailed, match=refused) as failed:
        PluginCase(SpendByDay(kind)).run("order.paid", order(12000), at=shanghai(2026, 3, 1, 12))
    assert failed.value.plugin == "spend_by_day"


def test_a_month_is_forgotten_at_the_start_of_the_month_keep_months_after_it_ends_brand_local():
    assert daily_totals.forget_at(date(2026, 3, 15), 12, "Asia/Shanghai") == shanghai(2027, 4, 1)
    assert daily_totals.still_kept(date(2026, 3, 31), 12, shanghai(2027, 3, 31, 23, 59), "Asia/Shanghai")
    assert not daily_totals.still_kept(date(2026, 3, 1), 12, shanghai(2027, 4, 1), "Asia/Shanghai")


def test_one_events_additions_to_the_same_day_become_one_and_what_nets_to_nothing_writes_nothing():
    at = shanghai(2027, 4, 1)
    merged = daily_totals.merged([
        daily_totals.DailyDelta("p:x", "2026-03", 15, 100, at), daily_totals.DailyDelta("p:x", "2026-03", 15, -40, at),
        daily_totals.DailyDelta("p:x", "2026-03", 16, 70, at), daily_totals.DailyDelta("p:x", "2026-03", 16, -70, at),
    ])
    assert merged == (daily_totals.DailyDelta("p:x", "2026-03", 15, 60, at),)


def rolling_member(days, growth, tier):
    return member(growth=growth, tier=tier, daily={"tiers:growth": days})


def test_an_order_of_29_february_counts_until_the_start_of_28_february_a_year_on():
    case = PluginCase(tiers_plugin, params={"policy": "rolling12"})
    leap_day = rolling_member({date(2028, 2, 29): 600}, 600, "YIN")
    before = case.run("order.paid", order(10000), member=leap_day, at=shanghai(2029, 2, 27, 23, 59))
    assert (before.member.profile.growth, before.member.profile.tier_code) == (700, "YIN")
    on_the_28th = case.run("order.paid", order(10000), member=leap_day, at=shanghai(2029, 2, 28, 0, 1))
    assert (on_the_28th.member.profile.growth, on_the_28th.member.profile.tier_code) == (100, "PU")


def test_the_rolling_window_adds_the_days_of_the_last_twelve_months_from_the_daily_totals_alone():
    case = PluginCase(tiers_plugin, params={"policy": "rolling12"})
    # Growth on 15 March and 16 March 2026 (Shanghai), and a day already out of the window; no order markers.
    days = {date(2026, 3, 15): 1500, date(2026, 3, 16): 300, date(2026, 3, 14): 9000}
    result = case.run("order.paid", order(20000), member=rolling_member(days, 1800, "YIN"),
                      at=shanghai(2027, 3, 15, 9))
    # 15 March 2027: the 15 March 2026 order has just left; 300 + 200 count.
    assert (result.member.profile.growth, result.member.profile.tier_code) == (500, "YIN")
    assert result.member.profile.tier_valid_until == shanghai(2027, 3, 16)
    assert result.member.daily["tiers:growth"][date(2027, 3, 15)] == 200
