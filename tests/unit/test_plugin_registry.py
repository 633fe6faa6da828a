"""Loading plugins: what cannot load says why, in words a partner can act on."""

import types

import pytest

from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo, PluginRegistry


def test_a_package_shadowed_by_a_folder_of_its_name_is_named_as_the_src_layout_trap():
    shadowed = types.ModuleType("my_plugin")
    shadowed.__path__ = ["/somewhere/my_plugin"]  # what Python makes of a bare folder: a namespace package
    shadowed.__file__ = None
    with pytest.raises(TypeError, match="empty namespace package.*src/ layout"):
        PluginRegistry().register(shadowed)


def test_a_plugin_info_that_is_not_a_plugin_info_is_refused_saying_what_it_was():
    plugin = types.SimpleNamespace(siyu_plugin_info=hookimpl(lambda: ("my_plugin", "1.0.0")))
    with pytest.raises(TypeError, match="returned tuple, not a rules.plugin_manager.PluginInfo"):
        PluginRegistry().register(plugin)


def test_a_misspelt_hook_fails_registration_naming_the_plugin_and_leaves_nothing_registered():
    class Typo:
        @hookimpl
        def siyu_plugin_info(self):
            return PluginInfo("typo", "1.0.0")

        @hookimpl
        def siyu_order_payed(self, event, context):
            return None

    registry = PluginRegistry()
    with pytest.raises(ValueError, match="'typo'.*siyu_order_payed"):
        registry.register(Typo())
    assert "typo" not in registry.infos and registry.pm.get_plugin("typo") is None
    assert registry.add(Typo(), "typo") is None and "siyu_order_payed" in registry.problems["typo"]


def test_every_built_in_plugin_has_a_valid_params_schema_since_the_registry_trusts_them_at_cold_start():
    import importlib

    from jsonschema import Draft202012Validator

    from rules.family import families
    from rules.plugin_manager import describe

    modules = families().plugin_modules
    assert modules
    for module in modules:
        Draft202012Validator.check_schema(dict(describe(importlib.import_module(module)).params_schema))


def test_a_plugin_whose_schema_is_not_known_good_is_still_checked_against_the_metaschema():
    class Broken:
        @staticmethod
        @hookimpl
        def siyu_plugin_info():
            return PluginInfo(name="broken_schema", version="1.0.0", params_schema={"type": "no-such-type"})

    broken = Broken()
    with pytest.raises(ValueError, match="invalid params schema"):
        PluginRegistry().register(broken)
