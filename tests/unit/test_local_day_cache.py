"""A brand-local day is the same whether or not it was remembered (rules/months.py `local_day`, issue 15)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from rules import months
from rules.brands import BrandConfig, TierLevel
from rules.context import RuleContext


def reference(at: datetime, tz: str):
    return at.astimezone(ZoneInfo(tz)).date()


ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Pacific/Kiritimati", "UTC"]


def test_an_order_just_before_midnight_in_shanghai_counts_on_that_shanghai_day_every_time_it_is_asked():
    start = datetime(2026, 3, 7, 15, 0, tzinfo=timezone.utc)
    for minutes in range(0, 24 * 60 * 3, 7):
        at = start + timedelta(minutes=minutes)
        for tz in ZONES:
            for _ in range(2):  # the second answer comes from memory
                assert months.local_day(at, tz) == reference(at, tz)


def test_times_in_other_zones_and_daylight_saving_folds_are_not_taken_from_memory():
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=0)
    second = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=1)  # an hour later, and equal to `first`
    for tz in ZONES + ["Asia/Kolkata"]:
        assert months.local_day(first, tz) == reference(first, tz)
        assert months.local_day(second, tz) == reference(second, tz)
    in_utc = datetime(2026, 6, 30, 16, 30, tzinfo=timezone.utc)
    assert months.local_day(in_utc.astimezone(timezone(timedelta(hours=8))), "Asia/Shanghai") == reference(
        in_utc, "Asia/Shanghai")


def test_an_unknown_zone_is_refused_each_time_it_is_asked():
    at = datetime(2026, 6, 30, 16, 30, tzinfo=timezone.utc)
    for _ in range(2):
        with pytest.raises(ZoneInfoNotFoundError):
            months.local_day(at, "Mars/Olympus_Mons")


def test_a_rule_context_gives_the_brand_local_date_of_now_and_of_any_time():
    brand = BrandConfig(brand_id="b", name="b", timezone="Asia/Shanghai", tiers=(TierLevel("PU", "普卡", 0),))
    now = datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)  # 1 January 2027 in Shanghai
    context = RuleContext(brand, {}, now, None)
    assert context.local_date().isoformat() == "2027-01-01"
    joined = datetime(2025, 1, 1, 15, 59, tzinfo=timezone.utc)
    assert context.local_date(joined) == reference(joined, "Asia/Shanghai")
