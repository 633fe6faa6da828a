"""The plugin manager: built-in rule plugins from `DEFAULT_PLUGINS`, partner plugins from the `siyu.rules`
entry-point group (only those named in the allow-list), loaded once per process.

Partner plugins are installed with pip and must be named in `SIYU_PARTNER_PLUGINS` (comma-separated entry-point
names) to load at all; a brand then enables them with `configureBrand`. Set `SIYU_TRACE_HOOKS=1` to log every hook
call and its result (a cheap audit of rule decisions).
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import pluggy
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from rules import hookspecs
from rules.errors import InvalidInput

ENTRY_POINT_GROUP = "siyu.rules"
DEFAULT_PLUGINS = (
    "plugins.points",
    "plugins.tiers",
    "plugins.points_expiry",
    "plugins.coupons",
    "plugins.referral",
    "plugins.crisis",
)

logger = logging.getLogger("siyu.plugins")


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str
    params_schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object"})
    order: int = 100
    description: str = ""
    # Days ahead the daily sweep should also look at, for plugins that act before a date (expiry reminders): the
    # members with something due exactly that many days from now get `siyu_member_due` too.
    due_offsets_days: tuple[int, ...] = ()
    # What JSON Schema cannot say (ids unique, references that must resolve): params -> [(field, problem)].
    check: Callable[[Mapping[str, Any]], list[tuple[str, str]]] | None = None
    # Whether the daily sweep still calls `siyu_member_due` for a member erased at their request: for plugins
    # that owe something to other members (an inviter's pending commission), never for the member's own ledger.
    after_erasure: bool = False


class PluginRegistry:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("siyu")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._validators: dict[str, Draft202012Validator] = {}
        self._callers: dict[tuple[str, str], Any] = {}
        if os.environ.get("SIYU_TRACE_HOOKS"):
            self.pm.add_hookcall_monitoring(
                lambda name, impls, kwargs: logger.info("hook %s -> %s", name, [i.plugin_name for i in impls]),
                lambda outcome, name, impls, kwargs: logger.info("hook %s returned %r", name, outcome.get_result()),
            )

    def register(self, plugin: Any) -> PluginInfo:
        describe = getattr(plugin, "siyu_plugin_info", None)
        info = describe() if callable(describe) else None
        if not isinstance(info, PluginInfo):
            raise TypeError(f"{plugin!r}: siyu_plugin_info must return a PluginInfo")
        if info.name in self.infos:
            raise ValueError(f"a plugin named {info.name!r} is already registered")
        try:
            Draft202012Validator.check_schema(dict(info.params_schema))
        except SchemaError as error:
            raise ValueError(f"plugin {info.name!r} has an invalid params schema: {error.message}") from None
        self.pm.register(plugin, name=info.name)
        self.infos[info.name] = info
        self._validators[info.name] = Draft202012Validator(dict(info.params_schema))
        return info

    def load_partner_plugins(self, allowed: Iterable[str]) -> list[str]:
        from importlib.metadata import entry_points

        loaded = []
        wanted = {name.strip() for name in allowed if name.strip()}
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.name in wanted:
                self.register(entry.load())
                loaded.append(entry.name)
        return loaded

    @property
    def due_offsets_days(self) -> list[int]:
        return sorted({offset for info in self.infos.values() for offset in info.due_offsets_days})

    def ordered(self, names: Iterable[str]) -> list[PluginInfo]:
        """The given plugins (unknown names skipped) in evaluation order."""
        known = [self.infos[n] for n in names if n in self.infos]
        return sorted(known, key=lambda info: (info.order, info.name))

    def call(self, plugin_name: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call one plugin's implementation of a hook, through pluggy (so tracing and wrappers still apply)."""
        key = (plugin_name, hook_name)
        caller = self._callers.get(key)
        if caller is None:
            others = [p for name, p in self.pm.list_name_plugin() if name != plugin_name]
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            self._callers[key] = caller
        return caller(**kwargs)

    def validate_params(self, plugin_name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Check a brand's parameters for a plugin; return them with the schema's defaults filled in."""
        if plugin_name not in self.infos:
            raise InvalidInput(f"plugins.{plugin_name}", f"no installed plugin is named {plugin_name!r}")
        params = dict(params or {})
        error = next(iter(sorted(self._validators[plugin_name].iter_errors(params), key=lambda e: list(e.path))), None)
        if error is not None:
            where = ".".join(str(p) for p in error.path)
            if error.validator == "required" and "'" in error.message:
                where = ".".join(filter(None, [where, error.message.split("'")[1]]))
            field_name = f"plugins.{plugin_name}.params" + (f".{where}" if where else "")
            raise InvalidInput(field_name, error.message[:300])
        filled = with_defaults(self.infos[plugin_name].params_schema, params)
        check = self.infos[plugin_name].check
        for where, problem in (check(filled) if check else ()):
            raise InvalidInput(f"plugins.{plugin_name}.params.{where}", problem)
        return filled


def with_defaults(schema: Mapping[str, Any], params: Mapping[str, Any]) -> dict[str, Any]:
    filled = dict(params)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in filled and isinstance(prop, Mapping) and "default" in prop:
            filled[name] = prop["default"]
    return filled


_registry: PluginRegistry | None = None
_lock = threading.Lock()


def registry() -> PluginRegistry:
    """The process's plugins, loaded on first use (once per Lambda container)."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                fresh = PluginRegistry()
                for module in DEFAULT_PLUGINS:
                    fresh.register(importlib.import_module(module))
                fresh.load_partner_plugins(os.environ.get("SIYU_PARTNER_PLUGINS", "").split(","))
                _registry = fresh
    return _registry


def reset() -> None:
    """Forget the loaded plugins (tests that change the allow-list)."""
    global _registry
    with _lock:
        _registry = None
