"""`PluginRegistry.brand_due_offsets` remembered per brand configuration answers what working it out answers
(`_due_offsets_of`), and never a stale answer: a configuration changed in place, a plugin registered or replaced,
another mapping equal or not, parameters that cannot be copied."""

from __future__ import annotations

import copy
import types

import pytest

from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo, PluginRegistry, registry


def offsets_plugin(name: str, days: tuple[int, ...], chosen=None) -> types.ModuleType:
    module = types.ModuleType(f"offsets_{name}")
    module.siyu_plugin_info = hookimpl(lambda: PluginInfo(name, "1.0", due_offsets_days=days, due_offsets=chosen))
    return module


def bench_plugins() -> dict:
    from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES

    plugins = registry()
    params = {"coupons": {"templates": BAIGUOYUAN_TEMPLATES}}
    return {n: plugins.validate_params(n, params.get(n, {}))
            for n in ("points", "tiers", "points_expiry", "coupons", "referral", "crisis")}


def both(registry_: PluginRegistry, plugins) -> frozenset[int]:
    expected = registry_._due_offsets_of(plugins)
    assert registry_.brand_due_offsets(plugins) == expected
    assert registry_.brand_due_offsets(plugins) == expected  # the remembered answer, asked again
    return expected


def test_the_built_ins_on_the_bench_brand_and_every_reminder_setting():
    plugins = registry()
    enabled = bench_plugins()
    assert both(plugins, enabled) == frozenset({30})
    for ahead in (0, 1, 3, 7, 14, 30):
        enabled["points_expiry"]["remindDaysBefore"] = ahead  # changed in place: asked again each time
        assert both(plugins, enabled) == (frozenset({ahead}) if ahead else frozenset())
    del enabled["points_expiry"]["remindDaysBefore"]  # the default
    assert both(plugins, enabled) == frozenset({30})
    enabled["points_expiry"] = {"remindDaysBefore": 7}  # a new parameters object under the same name
    assert both(plugins, enabled) == frozenset({7})
    enabled["points_expiry"] = None  # `params or {}`: the default
    assert both(plugins, enabled) == frozenset({30})
    del enabled["points_expiry"]
    assert both(plugins, enabled) == frozenset()
    enabled["points_expiry"] = {"remindDaysBefore": 3}
    assert both(plugins, enabled) == frozenset({3})
    assert both(plugins, {}) == frozenset()
    assert both(plugins, copy.deepcopy(enabled)) == frozenset({3})  # an equal mapping, another object


def test_nested_parameters_changed_in_place_are_seen():
    registry_ = PluginRegistry()
    registry_.register(offsets_plugin("nested", (1, 2, 3), lambda params: params["deep"]["days"]),
                       schema_checked=True)
    plugins = {"nested": {"deep": {"days": [1, 9]}}}
    assert both(registry_, plugins) == frozenset({1})
    plugins["nested"]["deep"]["days"].append(3)
    assert both(registry_, plugins) == frozenset({1, 3})


def test_a_plugin_registered_or_replaced_since_is_counted():
    registry_ = PluginRegistry()
    plugins = {"later": {}, "other": {}}
    assert both(registry_, plugins) == frozenset()
    registry_.register(offsets_plugin("later", (5,)), schema_checked=True)
    assert both(registry_, plugins) == frozenset({5})
    registry_.pm.unregister(name="later")
    del registry_.infos["later"]
    registry_.register(offsets_plugin("later", (6,)), schema_checked=True)
    assert both(registry_, plugins) == frozenset({6})
    registry_.register(offsets_plugin("other", (2,)), schema_checked=True)
    assert both(registry_, plugins) == frozenset({2, 6})


def test_plugin_order_and_parameters_that_cannot_be_copied():
    registry_ = PluginRegistry()
    registry_.register(offsets_plugin("a", (1, 2), lambda params: params.get("days", (1,))), schema_checked=True)
    registry_.register(offsets_plugin("b", (2, 3)), schema_checked=True)
    plugins = {"a": {"days": (2,)}, "b": {}}
    assert both(registry_, plugins) == frozenset({2, 3})
    plugins.pop("a")
    plugins["a"] = {"days": (1, 2)}  # the same names, another order
    assert both(registry_, plugins) == frozenset({1, 2, 3})
    uncopyable = {"a": {"days": (1,), "lock": (n for n in ())}}  # a generator: deepcopy refuses it
    with pytest.raises(TypeError):
        copy.deepcopy(uncopyable)
    assert both(registry_, uncopyable) == frozenset({1})
    assert id(uncopyable) not in registry_._due_offsets


def test_a_failing_offsets_function_fails_every_time():
    registry_ = PluginRegistry()

    def broken(params):
        raise ValueError("no")

    registry_.register(offsets_plugin("broken", (1,), broken), schema_checked=True)
    for _ in range(2):
        with pytest.raises(ValueError):
            registry_.brand_due_offsets({"broken": {}})


def test_the_memory_is_bounded():
    registry_ = PluginRegistry()
    registry_.register(offsets_plugin("a", (1,)), schema_checked=True)
    kept = [{"a": {}} for _ in range(200)]
    for plugins in kept:
        assert both(registry_, plugins) == frozenset({1})
    assert len(registry_._due_offsets) <= 64
