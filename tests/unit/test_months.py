"""Calendar months in the brand's time zone: what "6 months" and "the last 12 months" mean to a brand's operator."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from rules.months import add_months, local_day, longest_days, month_label, month_labels_back, months_after, \
    start_of_day

UTC = timezone.utc


@pytest.mark.parametrize("day, months, expected", [
    (date(2026, 2, 1), 6, date(2026, 8, 1)),  # 银卡 reached 1 February: judged 1 August
    (date(2026, 3, 1), 6, date(2026, 9, 1)),
    (date(2026, 9, 1), 6, date(2027, 3, 1)),  # the re-grade after it
    (date(2026, 8, 31), 6, date(2027, 2, 28)),  # a month end the target month lacks: its last day
    (date(2027, 8, 31), 6, date(2028, 2, 29)),  # ... which in a leap year is the 29th
    (date(2028, 2, 29), 12, date(2029, 2, 28)),  # a leap day a year on
    (date(2028, 2, 29), 48, date(2032, 2, 29)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 1, 30), 3, date(2026, 4, 30)),
    (date(2026, 3, 31), 1, date(2026, 4, 30)),
    (date(2026, 10, 31), 4, date(2027, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),  # across the year end
    (date(2026, 7, 31), 6, date(2027, 1, 31)),
    (date(2027, 3, 15), -12, date(2026, 3, 15)),  # back: the start of a 12-month window
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2028, 3, 31), -1, date(2028, 2, 29)),
    (date(2026, 1, 10), -1, date(2025, 12, 10)),
    (date(2026, 5, 17), 0, date(2026, 5, 17)),
])
def test_adding_calendar_months_clamps_to_the_last_day_of_a_shorter_month(day, months, expected):
    assert add_months(day, months) == expected


@pytest.mark.parametrize("tz, reached, judged", [
    # East of UTC: a tier reached early on 1 February local time is still reached on 1 February (31 January UTC).
    ("Asia/Shanghai", datetime(2026, 1, 31, 16, 30, tzinfo=UTC), datetime(2026, 7, 31, 16, 0, tzinfo=UTC)),
    ("Asia/Shanghai", datetime(2026, 2, 1, 15, 59, tzinfo=UTC), datetime(2026, 7, 31, 16, 0, tzinfo=UTC)),
    ("Asia/Shanghai", datetime(2026, 2, 28, 16, 0, tzinfo=UTC), datetime(2026, 8, 31, 16, 0, tzinfo=UTC)),  # 1 Mar
    # Auckland, 12 or 13 hours ahead as daylight saving comes and goes: judged at local midnight either way.
    ("Pacific/Auckland", datetime(2026, 1, 31, 11, 30, tzinfo=UTC), datetime(2026, 7, 31, 12, 0, tzinfo=UTC)),
    ("Pacific/Auckland", datetime(2026, 8, 30, 12, 0, tzinfo=UTC), datetime(2027, 2, 27, 11, 0, tzinfo=UTC)),
    # West of UTC: 31 August 20:00 in Los Angeles is already 1 September in UTC, but the brand's day is the 31st.
    ("America/Los_Angeles", datetime(2026, 9, 1, 3, 0, tzinfo=UTC), datetime(2027, 2, 28, 8, 0, tzinfo=UTC)),
    ("America/Los_Angeles", datetime(2027, 9, 1, 3, 0, tzinfo=UTC), datetime(2028, 2, 29, 8, 0, tzinfo=UTC)),
    ("America/Los_Angeles", datetime(2026, 2, 1, 8, 0, tzinfo=UTC), datetime(2026, 8, 1, 7, 0, tzinfo=UTC)),
])
def test_six_months_after_a_moment_is_the_start_of_the_brand_local_day_six_calendar_months_on(tz, reached, judged):
    assert months_after(reached, 6, tz) == judged
    assert judged.astimezone(ZoneInfo(tz)).time().isoformat() == "00:00:00"


def test_the_brand_local_day_and_month_of_a_moment_differ_east_and_west_of_utc():
    at = datetime(2026, 2, 28, 20, 0, tzinfo=UTC)
    assert local_day(at, "Asia/Shanghai") == date(2026, 3, 1)
    assert local_day(at, "Pacific/Auckland") == date(2026, 3, 1)
    assert local_day(at, "America/Los_Angeles") == date(2026, 2, 28)
    assert month_label(at, "Asia/Shanghai") == "2026-03"
    assert month_label(at, "America/Los_Angeles") == "2026-02"


def test_the_months_in_a_row_are_brand_local_calendar_months_newest_first():
    at = datetime(2026, 2, 28, 20, 0, tzinfo=UTC)  # 1 March in Shanghai, still February in Los Angeles
    assert month_labels_back(at, 3, "Asia/Shanghai") == ["2026-03", "2026-02", "2026-01"]
    assert month_labels_back(at, 3, "America/Los_Angeles") == ["2026-02", "2026-01", "2025-12"]
    assert month_labels_back(datetime(2026, 3, 31, 4, 0, tzinfo=UTC), 2, "Asia/Shanghai") == ["2026-03", "2026-02"]


def test_a_brand_local_day_starts_at_local_midnight_in_utc():
    assert start_of_day(date(2026, 8, 1), "Asia/Shanghai") == datetime(2026, 7, 31, 16, 0, tzinfo=UTC)
    assert start_of_day(date(2026, 8, 1), "America/Los_Angeles") == datetime(2026, 8, 1, 7, 0, tzinfo=UTC)
    assert start_of_day(date(2026, 12, 1), "America/Los_Angeles") == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert start_of_day(date(2026, 8, 1), "Pacific/Auckland") == datetime(2026, 7, 31, 12, 0, tzinfo=UTC)


def test_records_a_months_long_rule_reads_are_kept_long_enough_for_its_longest_months():
    start = datetime(2027, 8, 1, 23, 59, tzinfo=UTC)  # 2 August in Auckland; the 12 months run to 2028-08-02
    for tz in ("Asia/Shanghai", "Pacific/Auckland", "America/Los_Angeles"):
        assert (months_after(start, 12, tz) - start).days < longest_days(12)
        assert (months_after(start, 3, tz) - start).days < longest_days(3)
