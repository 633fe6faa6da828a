"""Planning one imported row (rules/importing.py): pure, with "now" given, never read."""

from datetime import datetime, timezone

from rules import importing
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.importing import PlannedMember, RejectedRow, Source

NOW = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 on 1 March in Shanghai
SOURCE = Source("old.csv", BrandConfig("bgy", "百果园", BAIGUOYUAN_LADDER), NOW, "key")


def plan(**fields) -> PlannedMember | RejectedRow:
    return importing.plan_row(SOURCE, 7, {"external_id": "E1", "phone": "13800138000", **fields})


def codes(result) -> dict[str, str]:
    assert isinstance(result, RejectedRow), result
    return {p.field: p.code for p in result.problems}


def test_a_lot_expiring_today_is_still_importable_and_spendable_through_the_day():
    planned = plan(lots="100@2026-03-01")
    lot = planned.posting.new_lots[0]
    assert lot.expires_at == datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)  # midnight in Shanghai
    assert codes(plan(lots="100@2026-02-28")) == {"lots[0].expiresOn": "EXPIRY_IN_PAST"}


def test_a_tier_without_a_validity_is_held_for_the_brands_tier_months_from_the_import():
    planned = plan(tier="金卡")
    assert planned.registration.profile.tier_code == "JIN"
    assert planned.registration.profile.tier_valid_until == datetime(2026, 8, 31, 16, 0, tzinfo=timezone.utc)
    assert plan().registration.profile.tier_valid_until is None  # the entry tier never lapses


def test_the_same_row_always_plans_the_same_member_and_entries():
    first, again = plan(lots="5@2027-01-01;6@2027-01-02"), plan(lots="5@2027-01-01;6@2027-01-02")
    assert first == again
    assert [e.entry_id for e in first.posting.entries] == [f"import-{first.registration.profile.member_id}-{i}"
                                                           for i in range(2)]
    assert importing.member_id_for("bgy", "E1") != importing.member_id_for("other", "E1")


def test_every_problem_of_a_row_is_reported_at_once():
    assert codes(importing.plan_row(SOURCE, 3, {"phone": "123", "tier": "黑卡", "growth": "-3",
                                                "lots": "-1@2027-01-01;x@2027-13-01", "birthday": "02-30"})) == {
        "external_id": "MISSING", "phone": "BAD_PHONE", "tier": "UNKNOWN_TIER", "growth": "NEGATIVE_POINTS",
        "lots[0].points": "NEGATIVE_POINTS", "lots[1].points": "BAD_VALUE", "lots[1].expiresOn": "BAD_VALUE",
        "birthday": "BAD_VALUE"}


def test_birthdays_keep_only_month_and_day():
    assert plan(birthday="1990-03-08").registration.profile.birthday == "--03-08"
    assert plan(birthday="12-31").registration.profile.birthday == "--12-31"
