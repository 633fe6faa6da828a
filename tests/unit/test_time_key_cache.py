"""A time key is the text strftime writes, whether or not it was remembered (rules/ids.py, issue 15)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from rules import ids


def strftime_key(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


def test_an_event_naming_its_time_in_several_keys_gets_the_same_text_each_time():
    start = datetime(2026, 11, 30, 23, 59, 59, 999_999, tzinfo=timezone.utc)
    for step in range(0, 400):
        at = start + timedelta(microseconds=step * 7919, days=step)
        for _ in range(2):  # the second answer comes from memory
            assert ids.time_key(at) == strftime_key(at)


def test_the_same_instant_in_another_zone_or_a_daylight_saving_fold_is_not_mixed_up():
    new_york = ZoneInfo("America/New_York")
    first = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=0)
    second = datetime(2026, 11, 1, 1, 30, tzinfo=new_york, fold=1)  # equal to `first`, an hour later
    assert ids.time_key(first) == strftime_key(first) != ids.time_key(second) == strftime_key(second)
    utc = first.astimezone(timezone.utc)
    assert ids.time_key(utc) == ids.time_key(first)
    assert ids.time_key(utc.replace(fold=1)) == strftime_key(utc)
    assert ids.time_key(datetime(999, 12, 31, 23, 0, tzinfo=timezone.utc)) == strftime_key(
        datetime(999, 12, 31, 23, 0, tzinfo=timezone.utc))
    east = timezone(timedelta(hours=8))
    assert ids.time_key(utc.astimezone(east)) == ids.time_key(utc)
