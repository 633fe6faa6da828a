"""The partner guide (docs/plugins.md) documents everything a plugin can touch: a hook, a context member, an effect
or an event field added without documenting it fails here (after datasette's test_plugin_hooks_are_documented)."""

import dataclasses
import importlib
import inspect
import re
import typing
from pathlib import Path

import pytest

from rules import effects as fx
from rules import hookspecs
from rules.context import MemberView, RuleContext
from rules.engine import follow_up_types
from rules.events import BusinessEvent, SweepEvent, detail_schemas
from rules.family import families
from rules.plugin_manager import PluginInfo
from rules.wire import partner_effects

ROOT = Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs" / "plugins.md").read_text()
HEADINGS = [line for line in GUIDE.splitlines() if line.startswith("#")]
PARTNER_EFFECTS = partner_effects()
DETAIL_SCHEMAS = detail_schemas()
FOLLOW_UP_TYPES = follow_up_types()
# The core's hooks and those the families add (`Family.hookspecs`), each from the module that specifies it.
SPEC_MODULES = [hookspecs, *(importlib.import_module(m) for m in families().hookspec_modules)]
SPECS = {name: (module, f) for module in SPEC_MODULES for name, f in vars(module).items()
         if name.startswith("siyu_") and callable(f) and hasattr(f, "siyu_spec")}
HOOKS = sorted(SPECS)


def section(title: str) -> str:
    """The guide's text under the heading naming `title`, up to the next heading of the same or a higher level."""
    match = re.search(rf"^(#+) .*{re.escape(title)}.*$", GUIDE, re.M)
    assert match, f"no heading names {title}"
    level = len(match.group(1))
    rest = GUIDE[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.M)
    return rest[:end.start()] if end else rest


def public_members(cls: type) -> list[str]:
    names = {f.name for f in dataclasses.fields(cls)}
    names |= {name for name, _ in inspect.getmembers(cls) if not name.startswith("_")}
    return sorted(names)


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_heading(hook):
    assert any(f"`{hook}(" in heading for heading in HEADINGS), hook


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_spec_is_typed(hook):
    module, spec = SPECS[hook]
    hints = typing.get_type_hints(spec, globalns={**vars(module), **_sdk_types()})
    parameters = inspect.signature(spec).parameters
    assert set(parameters) <= set(hints) and "return" in hints, hook


def _sdk_types() -> dict:
    from rules.context import RuleContext
    from rules.effects import Effect

    return {"RuleContext": RuleContext, "Effect": Effect, "BusinessEvent": BusinessEvent, "SweepEvent": SweepEvent,
            "PluginInfo": PluginInfo}


@pytest.mark.parametrize("member", public_members(RuleContext))
def test_every_context_member_is_documented(member):
    assert f"`context.{member}" in GUIDE, member


@pytest.mark.parametrize("member", public_members(MemberView))
def test_every_member_view_member_is_documented(member):
    assert f"`context.member.{member}" in GUIDE, member


@pytest.mark.parametrize("member", sorted({f.name for f in dataclasses.fields(BusinessEvent)} | {"member_id", "get"}))
def test_every_event_attribute_is_documented(member):
    assert f"`event.{member}" in GUIDE, member


@pytest.mark.parametrize("member", [f.name for f in dataclasses.fields(SweepEvent)])
def test_every_sweep_attribute_is_documented(member):
    assert f"`sweep.{member}" in GUIDE, member


@pytest.mark.parametrize("effect", sorted(PARTNER_EFFECTS))
def test_every_effect_a_partner_may_return_has_a_heading_with_its_fields(effect):
    assert f"### `{effect}`" in HEADINGS, effect
    text = section(f"`{effect}`")
    for field in dataclasses.fields(PARTNER_EFFECTS[effect]):
        if field.name not in ("rule", "inputs"):
            assert f"`{field.name}`" in text, f"{effect}.{field.name}"


def test_every_effect_reserved_to_a_built_in_is_listed_as_such():
    families()
    reserved = section("Effects reserved to built-ins")

    def every(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from every(sub)

    for cls in every(fx.Effect):
        if cls.__name__ not in PARTNER_EFFECTS and cls not in (fx.BrandEffect, fx.FamilyEffect):
            assert f"`{cls.__name__}`" in reserved, cls.__name__


@pytest.mark.parametrize("detail_type", sorted(DETAIL_SCHEMAS))
def test_every_event_and_each_of_its_fields_is_documented(detail_type):
    text = section(f"`{detail_type}`")
    for field in DETAIL_SCHEMAS[detail_type]["properties"]:
        assert f"`{field}`" in text, f"{detail_type}.{field}"


def test_every_plugin_info_field_is_documented():
    text = section("`PluginInfo`")
    for field in dataclasses.fields(PluginInfo):
        assert f"`{field.name}`" in text, field.name


def test_every_follow_up_type_a_plugin_may_emit_is_documented():
    text = section("`Emit`")
    for detail_type in FOLLOW_UP_TYPES:
        assert f"`{detail_type}`" in text, detail_type


def test_the_guide_covers_once_keys_refunds_testing_and_packaging():
    assert "starts with your plugin's own name" in section("`Once`")
    assert "not taken back on a refund unless" in section("Refunds")
    for raised in ("ValueError", "InvalidInput", "PluginFailed"):
        assert raised in section("Testing with `PluginCase`")
    assert "src/" in section("Packaging")


def test_partners_are_never_sent_outside_the_repository_for_the_contract():
    for path in (ROOT / "docs" / "plugins.md", ROOT / "rules" / "hookspecs.py", ROOT / "rules" / "effects.py"):
        assert "CONTRACT.md" not in path.read_text(), path


def test_the_readme_plugin_section_points_to_the_guide():
    readme = (ROOT / "README.md").read_text()
    assert "docs/plugins.md" in readme


def test_the_sdk_module_exports_every_effect_a_partner_may_return_and_the_guide_names_all_it_exports():
    from rules import sdk

    assert all(getattr(sdk, name) is PARTNER_EFFECTS[name] for name in PARTNER_EFFECTS)
    for name in sdk.__all__:
        assert f"`{name}`" in GUIDE, name
