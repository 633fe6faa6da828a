"""A partner plugin installed with pip (examples/wecom_group_bonus) runs through the real engine, only where enabled."""

from datetime import datetime, timezone
from importlib.metadata import entry_points

import pytest

from rules.brand_settings import configure_brand
from rules.engine import Engine
from rules.errors import InvalidInput
from rules.family import families
from rules.plugin_manager import ENTRY_POINT_GROUP, PluginRegistry
from tests.helpers import business_event, register

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def registry_allowing(*names):
    registry = PluginRegistry()
    for module in families().plugin_modules:
        registry.register(__import__(module, fromlist=["_"]))
    registry.load_partner_plugins(names)
    return registry


def test_the_example_is_installed_as_a_siyu_rules_entry_point():
    assert "wecom_group_bonus" in {e.name for e in entry_points(group=ENTRY_POINT_GROUP)}


def test_an_installed_partner_plugin_loads_only_when_allow_listed():
    assert "wecom_group_bonus" not in registry_allowing().infos
    assert registry_allowing("wecom_group_bonus").infos["wecom_group_bonus"].version == "1.0.0"


def test_it_awards_its_bonus_for_the_brand_that_enabled_it_and_not_for_one_that_did_not(store, bus, rules_brand):
    registry = registry_allowing("wecom_group_bonus")
    engine = Engine(store, registry, bus)
    with_bonus, without = rules_brand, rules_brand + "n"
    configure_brand(store, registry, with_bonus, now=T, plugin_settings=[("wecom_group_bonus", True, {"points": 10})])
    configure_brand(store, registry, without, now=T, name="没启用", tiers=store.get_brand(rules_brand).tiers,
                    plugin_settings=[("points", True, {})])
    joiner, other = register(store, with_bonus, T), register(store, without, T)

    def join(brand, member, group):
        detail = {"brandId": brand, "memberId": member, "action": "group_join", "refId": group}
        return engine.handle(business_event("member.engaged", detail, time=T)).as_dict()

    first = join(with_bonus, joiner, "g-1")
    assert first["plugins"] == {"wecom_group_bonus": 2}
    assert join(with_bonus, joiner, "g-2")["effects"] == []
    assert join(without, other, "g-1")["effects"] == []
    assert store.load_member(with_bonus, joiner).points.balance == 10
    assert store.load_member(without, other).points.balance == 0
    (entry,) = store.entries(with_bonus, joiner)
    assert entry.explanation["plugin"] == "wecom_group_bonus" and entry.actor == "plugin:wecom_group_bonus@1.0.0"


def test_bad_parameters_for_it_are_refused_naming_the_field(store, rules_brand):
    registry = registry_allowing("wecom_group_bonus")
    with pytest.raises(InvalidInput) as refused:
        configure_brand(store, registry, rules_brand, now=T,
                        plugin_settings=[("wecom_group_bonus", True, {"points": "lots"})])
    assert refused.value.field == "plugins.wecom_group_bonus.params.points"
