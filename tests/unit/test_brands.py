import pytest

from rules.brands import BAIGUOYUAN_LADDER, BrandConfig, TierLevel
from rules.errors import InvalidInput

BGY = BrandConfig("bgy", "百果园", BAIGUOYUAN_LADDER)


@pytest.mark.parametrize("growth, tier", [(0, "普卡"), (499, "普卡"), (500, "银卡"), (1999, "银卡"), (2000, "金卡"),
                                          (4999, "金卡"), (5000, "钻卡"), (80000, "钻卡")])
def test_baiguoyuan_growth_value_grades_members_on_the_ladder(growth, tier):
    assert BGY.tier_for_growth(growth).name == tier


def test_a_gold_member_is_told_the_diamond_card_is_next():
    assert BGY.next_tier("JIN").name == "钻卡"
    assert BGY.next_tier("ZUAN") is None


def test_a_ladder_that_does_not_rise_is_refused_naming_the_rung():
    with pytest.raises(InvalidInput) as refused:
        BrandConfig("x", "x", (TierLevel("A", "A", 0), TierLevel("B", "B", 500), TierLevel("C", "C", 500)))
    assert refused.value.field == "tiers[2].threshold"


def test_the_entry_tier_starts_at_zero():
    with pytest.raises(InvalidInput):
        BrandConfig("x", "x", (TierLevel("A", "A", 10),))
