import wecom_group_bonus
from rules.testing import PluginCase


def test_the_first_group_join_earns_10_points_and_the_second_earns_nothing():
    case = PluginCase(wecom_group_bonus)
    first = case.run("member.engaged", {"action": "group_join", "refId": "store-0571-01"})
    assert first.points_awarded == 10
    assert first.explained()[-1]["rule"] == "first-group-join"
    second = case.run("member.engaged", {"action": "group_join", "refId": "store-0571-02"}, member=first.member)
    assert second.points_awarded == 0


def test_other_engagement_earns_nothing():
    assert PluginCase(wecom_group_bonus).run("member.engaged", {"action": "share"}).points_awarded == 0


def test_only_listed_groups_count_when_the_brand_lists_some():
    case = PluginCase(wecom_group_bonus, params={"groups": ["vip-group"], "points": 30})
    assert case.run("member.engaged", {"action": "group_join", "refId": "other"}).points_awarded == 0
    assert case.run("member.engaged", {"action": "group_join", "refId": "vip-group"}).points_awarded == 30
