"""The plugin manager: built-in rule plugins from the rule families (rules/family.py), partner plugins from the `siyu.rules`
entry-point group (only those named in the allow-list), loaded once per process.

Partner plugins are installed with pip and must be named in `SIYU_PARTNER_PLUGINS` (comma-separated entry-point
names) to load at all; a brand then enables them with `configureBrand`. They never run in this process: each is
loaded and called in a sandbox without credentials or secrets (rules/sandbox.py: a subprocess locally, a Lambda
function of its own in AWS, `SIYU_PARTNER_RUNNER`). Set `SIYU_TRACE_HOOKS=1` to log every hook call and its result
(a cheap audit of rule decisions).

A plugin that cannot load or register (an import error, a name a built-in already has, a misspelt hook) is left
out, logged, and named with its reason in `problems`; every other plugin keeps working. A brand that enabled it
gets its events failed, naming it, rather than applied without it (rules/engine.py).
"""

from __future__ import annotations

import copy
import importlib
import logging
import operator
import os
import threading
from typing import Any, Callable, Iterable, Mapping

import pluggy

from rules import hookspecs
from rules.errors import InvalidInput
from rules.plugin_info import PluginInfo  # noqa: F401 - where plugins have always imported it from

ENTRY_POINT_GROUP = "siyu.rules"

logger = logging.getLogger("siyu.plugins")


class _Manager(pluggy.PluginManager):
    """pluggy's plugin manager, counting every change to which implementations a hook call can run (a plugin
    registered or unregistered, specs added; each counted before and after, so a change that fails half way is
    counted too) and remembering whether anything ever wrapped its calls (tracing, monitoring): what
    `PluginRegistry.call` checks before it calls a plugin without pluggy's machinery."""

    def __init__(self, project_name: str) -> None:
        super().__init__(project_name)
        self.changes = 0
        self.monitored = False

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        self.changes += 1
        try:
            return super().register(plugin, name)
        finally:
            self.changes += 1

    def unregister(self, plugin: Any = None, name: str | None = None) -> Any:
        self.changes += 1
        try:
            return super().unregister(plugin, name)
        finally:
            self.changes += 1

    def add_hookspecs(self, module_or_class: Any) -> None:
        self.changes += 1
        try:
            super().add_hookspecs(module_or_class)
        finally:
            self.changes += 1

    def add_hookcall_monitoring(self, before: Any, after: Any) -> Any:
        self.monitored = True  # for good, even once undone: pluggy's own path is always right
        return super().add_hookcall_monitoring(before, after)


class PluginRegistry:
    def __init__(self) -> None:
        self.pm = _Manager("siyu")
        self.pm.add_hookspecs(hookspecs)
        from rules.family import families

        for module in families().hookspec_modules:
            self.pm.add_hookspecs(importlib.import_module(module))
        self.infos: dict[str, PluginInfo] = {}
        # Plugins left out, by the name they were loaded under (an entry point's), with why.
        self.problems: dict[str, str] = {}
        self._not_allowed: set[str] | None = set()  # None: not looked up yet (see `not_allowed`)
        self._wanted: set[str] = set()
        self._validators: dict[str, Any] = {}  # params validators by plugin, built when first needed
        self._callers: dict[tuple[str, str], list[Any]] = {}
        # `brand_due_offsets` remembered by configuration: {id: (mapping, changes, names, params read, answer)};
        # the mapping is held, so its id cannot be another's while it is remembered.
        self._due_offsets: dict[int, tuple[Any, ...]] = {}
        if os.environ.get("SIYU_TRACE_HOOKS"):
            self.pm.add_hookcall_monitoring(
                lambda name, impls, kwargs: logger.info("hook %s -> %s", name, [i.plugin_name for i in impls]),
                lambda outcome, name, impls, kwargs: logger.info("hook %s returned %r", name, outcome.get_result()),
            )

    def register(self, plugin: Any, *, schema_checked: bool = False) -> PluginInfo:
        """Register one plugin, or raise saying why it cannot be (nothing of it stays registered then).
        `schema_checked`: its params schema is known to be valid (the built-ins', checked by
        tests/unit/test_plugin_registry.py), so the costly check against the metaschema is skipped at cold start."""
        info = describe(plugin)
        if info.name in self.infos:
            raise ValueError(f"a plugin named {info.name!r} is already registered")
        if not schema_checked:
            # Imported here, not with the module: the events Lambda imports this module at cold start (issue 15).
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(dict(info.params_schema))
            except SchemaError as error:
                raise ValueError(f"plugin {info.name!r} has an invalid params schema: {error.message}") from None
        self.pm.register(plugin, name=info.name)
        try:
            # A hook implementation matching no spec (`siyu_order_payed`) would otherwise never run, silently.
            self.pm.check_pending()
        except pluggy.PluginValidationError as error:
            self.pm.unregister(name=info.name)
            raise ValueError(f"plugin {info.name!r}: {error}") from None
        self.infos[info.name] = info
        return info

    def add(self, plugin: Any, label: str) -> PluginInfo | None:
        """Register a plugin if it can be; if not, leave it out, log it and keep the reason under `label`."""
        try:
            return self.register(plugin)
        except Exception as error:  # noqa: BLE001 - one plugin's failure must not stop the others
            self.left_out(label, error)
            return None

    def left_out(self, label: str, error: BaseException | str) -> None:
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.problems[label] = reason[:1000]
        logger.error("plugin %s left out: %s", label, reason)

    def load_partner_plugins(self, allowed: Iterable[str], runner: Any = None) -> list[str]:
        """Load the allow-listed partner plugins, each through `runner` (rules/sandbox.py; by default a subprocess
        pool); one that cannot load is left out and named in `problems`."""
        from importlib.metadata import entry_points

        from rules import sandbox

        wanted = list(dict.fromkeys(name.strip() for name in allowed if name.strip()))
        self._wanted = set(wanted)
        if not wanted:
            # Nothing to load: which partner packages are installed is looked up only if someone asks (reading
            # every installed distribution's metadata is a few ms of each cold start).
            self._not_allowed = None
            return []
        installed = {entry.name: entry for entry in entry_points(group=ENTRY_POINT_GROUP)}
        self._not_allowed = set(installed) - self._wanted
        runner = runner if runner is not None else sandbox.default_runner()
        loaded = []
        for name in wanted:
            entry = installed.get(name)
            if entry is None:
                self.left_out(name, f"{name!r} is on the allow-list but no installed package provides it")
                continue
            try:
                plugin = sandbox.remote_plugin(runner, name, entry.value)
            except Exception as error:  # noqa: BLE001 - an import error in the sandbox, a sandbox that died
                self.left_out(name, error)
                continue
            if self.add(plugin, name) is not None:
                loaded.append(name)
        return loaded

    @property
    def not_allowed(self) -> set[str]:
        """Partner plugins installed in this environment but not on its allow-list."""
        if self._not_allowed is None:
            from importlib.metadata import entry_points

            self._not_allowed = {entry.name for entry in entry_points(group=ENTRY_POINT_GROUP)} - self._wanted
        return self._not_allowed

    def unavailable(self, name: str) -> str:
        """Why `name` is not a plugin this deployment can run."""
        if name in self.problems:
            return f"plugin {name!r} is not available in this deployment: {self.problems[name]}"
        if name in self.not_allowed:
            return (f"plugin {name!r} is installed but not on this deployment's allow-list "
                    "(SIYU_PARTNER_PLUGINS)")
        return f"no installed plugin is named {name!r}"

    @property
    def due_offsets_days(self) -> list[int]:
        return sorted({offset for info in self.infos.values() for offset in info.due_offsets_days})

    def brand_due_offsets(self, plugins: Mapping[str, Mapping[str, Any]]) -> frozenset[int]:
        """The days ahead the daily sweep looks at for a brand with these plugins and parameters.

        Asked for every event that posts (rules/engine.py `_lots_listed`) with the same brand configuration, so the
        answer is remembered per configuration (the brand's `plugins` mapping, the store's cached brand keeps it):
        kept while the mapping is the same object, no plugin was registered or unregistered since
        (`_Manager.changes`), its plugin names are the same, in the same order, and the parameters of the plugins
        that have offsets (the only ones read) still equal a copy taken then, so a configuration changed in place
        is asked again (issue 15, engine CPU). tests/unit/test_due_offsets_memory.py compares it with
        `_due_offsets`."""
        known = self._due_offsets.get(id(plugins))
        if (known is not None and known[0] is plugins and known[1] == getattr(self.pm, "changes", None)
                and known[2] == tuple(plugins) and _same_params(plugins, known[3])):
            return known[4]
        answer = self._due_offsets_of(plugins)
        try:
            read = tuple((name, copy.deepcopy(params)) for name, params in plugins.items()
                         if name in self.infos and self.infos[name].due_offsets_days)
        except Exception:  # noqa: BLE001 - parameters that cannot be copied are simply not remembered
            return answer
        if len(self._due_offsets) >= _MAX_REMEMBERED_CONFIGURATIONS:
            self._due_offsets.clear()
        self._due_offsets[id(plugins)] = (plugins, getattr(self.pm, "changes", None), tuple(plugins), read, answer)
        return answer

    def _due_offsets_of(self, plugins: Mapping[str, Mapping[str, Any]]) -> frozenset[int]:
        """`brand_due_offsets`, worked out."""
        offsets: set[int] = set()
        for name, params in plugins.items():
            info = self.infos.get(name)
            if info is None or not info.due_offsets_days:
                continue
            chosen = info.due_offsets(params or {}) if info.due_offsets is not None else info.due_offsets_days
            offsets.update(offset for offset in chosen if offset in info.due_offsets_days)
        return frozenset(offsets)

    def ordered(self, names: Iterable[str]) -> list[PluginInfo]:
        """The given plugins (unknown names skipped) in evaluation order."""
        known = [self.infos[n] for n in names if n in self.infos]
        return sorted(known, key=_ORDER)

    def call(self, plugin_name: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call one plugin's implementation of a hook, through pluggy (so tracing and wrappers still apply).

        The engine calls each enabled plugin once per event (issue 15, engine CPU), so the common case skips
        pluggy's machinery and does what pluggy's `_multicall` does for it: while nothing wraps pluggy's
        calls (no SIYU_TRACE_HOOKS monitoring) and the hook is neither historic nor first-result, a plugin without
        an implementation of it answers [] without a call, and one with exactly one plain implementation (no
        wrapper) is called with the arguments that function names, a non-None result being the one answer.
        Anything else (a wrapper, two implementations, an argument the call lacks: pluggy's own warning and
        error) goes through pluggy. The choice is made again after any change to the plugins
        (`_Manager.changes`), so a plugin registered, unregistered or replaced since is called as pluggy would
        call it (`hook_caller`, `_direct`).
        tests/unit/test_engine_fast_paths.py compares both ways on every built-in plugin and event, a partner
        plugin through the sandbox, wrapped, traced and replaced plugins.
        """
        invoke = self.hook_caller(plugin_name, hook_name)
        return [] if invoke is None else invoke(**kwargs)

    def answers(self, plugin_name: str, hook_name: str) -> bool:
        """False when calling the plugin's hook surely answers [] and is seen by no one (it has no implementation of
        it and nothing traces hook calls)."""
        return self.hook_caller(plugin_name, hook_name) is not None

    def hook_caller(self, plugin_name: str, hook_name: str) -> Callable[..., list[Any]] | None:
        """What `call` calls, (**kwargs) -> the results, or None when the call surely answers [] and is seen by no one
        (the engine then does not even build the plugin's context). The plugin's own pluggy caller for the hook (all
        but its implementations removed, made once, as before `call` had plans) while anything traces hook calls,
        else `_direct`'s choice, made again after any change to the plugins (`_Manager.changes`)."""
        key = (plugin_name, hook_name)
        entry = self._callers.get(key)
        if entry is None:
            others = [p for name, p in self.pm.list_name_plugin() if name != plugin_name]
            entry = [self.pm.subset_hook_caller(hook_name, remove_plugins=others), None, None]
            self._callers[key] = entry
        changes = getattr(self.pm, "changes", None)
        if changes is None or self.pm.monitored:
            return entry[0]
        if entry[1] != changes:
            entry[1], entry[2] = changes, _direct(entry[0])
        return entry[2]

    def validate_params(self, plugin_name: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """Check a brand's parameters for a plugin; return them with the schema's defaults filled in."""
        if plugin_name not in self.infos:
            raise InvalidInput(f"plugins.{plugin_name}", "invalid.plugin_unavailable", plugin=plugin_name,
                               detail=self.unavailable(plugin_name))
        params = dict(params or {})
        if plugin_name not in self._validators:
            # Built when first needed: only configuring a brand checks parameters, an event never does.
            from rules.schema_check import validator

            self._validators[plugin_name] = validator(self.infos[plugin_name].params_schema)
        error = next(iter(sorted(self._validators[plugin_name].iter_errors(params), key=lambda e: list(e.path))), None)
        if error is not None:
            where = ".".join(str(p) for p in error.path)
            if error.validator == "required" and "'" in error.message:
                where = ".".join(filter(None, [where, error.message.split("'")[1]]))
            field_name = f"plugins.{plugin_name}.params" + (f".{where}" if where else "")
            raise InvalidInput(field_name, "invalid.plugin_params", detail=error.message[:300])
        filled = with_defaults(self.infos[plugin_name].params_schema, params)
        check = self.infos[plugin_name].check
        for where, problem in (check(filled) if check else ()):
            raise InvalidInput(f"plugins.{plugin_name}.params.{where}", "invalid.plugin_params", detail=problem)
        return filled


_MAX_REMEMBERED_CONFIGURATIONS = 64  # brand configurations (`brand_due_offsets`): a few per deployment


def _same_params(plugins: Mapping[str, Mapping[str, Any]], read: tuple[tuple[str, Any], ...]) -> bool:
    """Whether the plugins' parameters `brand_due_offsets` read are still equal to the copies it took."""
    for name, params in read:
        if plugins[name] != params:
            return False
    return True


_ORDER = operator.attrgetter("order", "name")  # (info.order, info.name), in C: the plugins' evaluation order


def _direct(caller: Any) -> Callable[..., list[Any]] | None:
    """How `PluginRegistry.call` calls one plugin's implementations of a hook (its pluggy `caller`) without pluggy's
    machinery, doing what pluggy's `_multicall` does for them: None when there are none (the answer is []), for
    exactly one plain implementation (no wrapper) a function calling it with the arguments it names (a non-None
    result is the one answer; a call lacking an argument the hook declares goes to pluggy, for its own warning
    and error), and `caller` itself for anything else (a first-result or historic hook, a wrapper, two
    implementations)."""
    spec, impls = caller.spec, caller.get_hookimpls()
    if spec is None or spec.opts.get("firstresult") or spec.opts.get("historic"):
        return caller
    if not impls:
        return None
    if len(impls) != 1 or impls[0].wrapper or impls[0].hookwrapper or impls[0].kwargnames:
        return caller
    function, argnames = impls[0].function, tuple(impls[0].argnames)
    needed = frozenset(spec.argnames) | frozenset(argnames)
    defaults = dict(spec.kwargdefaults)

    def direct(**kwargs: Any) -> list[Any]:
        given = {**defaults, **kwargs} if defaults else kwargs
        if not needed <= given.keys():
            return caller(**kwargs)
        result = function(*[given[name] for name in argnames])
        return [] if result is None else [result]
    return direct


def describe(plugin: Any) -> PluginInfo:
    """What a plugin says about itself, or a clear error when it cannot say it."""
    describe_hook = getattr(plugin, "siyu_plugin_info", None)
    if describe_hook is None and getattr(plugin, "__file__", None) is None and hasattr(plugin, "__path__"):
        # An editable install next to a project folder named like the module imports that folder instead.
        raise TypeError(f"{getattr(plugin, '__name__', plugin)!r} was imported as an empty namespace package, not "
                        "your module: a folder with the module's name shadows it (use a src/ layout)")
    if not callable(describe_hook):
        raise TypeError(f"{getattr(plugin, '__name__', plugin)!r} has no siyu_plugin_info hook")
    info = describe_hook()
    if not isinstance(info, PluginInfo):
        raise TypeError(f"{getattr(plugin, '__name__', plugin)!r}: siyu_plugin_info returned "
                        f"{type(info).__name__}, not a rules.plugin_manager.PluginInfo")
    return info


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
                from rules.family import families

                for module in families().plugin_modules:
                    # Built-ins that cannot load are a bad build; their schemas are checked by the tests, not here.
                    fresh.register(importlib.import_module(module), schema_checked=True)
                fresh.load_partner_plugins(os.environ.get("SIYU_PARTNER_PLUGINS", "").split(","))
                _registry = fresh
    return _registry


def reset() -> None:
    """Forget the loaded plugins (tests that change the allow-list)."""
    global _registry
    with _lock:
        _registry = None
    from rules import sandbox

    sandbox.close_default_runner()
