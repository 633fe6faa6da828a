"""The sandbox's side of rules/sandbox.py: the process (a subprocess locally, a partner's own Lambda function in
AWS) that loads one partner plugin and answers the protocol. It holds no table credentials and no secret.

Run it by hand: `python -m rules.sandbox_host` reads requests from stdin, one per line.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
from typing import Any, Mapping

from rules import wire
from rules.sandbox import SandboxError, sweep_hooks

logger = logging.getLogger("siyu.sandbox")


# ---- the sandbox's side ----------------------------------------------------------------------------------------


class Host:
    """Loads partner plugins and answers the protocol. `only`: the one plugin this sandbox may load (a partner's
    Lambda function loads its own package and nothing else)."""

    def __init__(self, preloaded: Mapping[str, Any] | None = None, only: str | None = None) -> None:
        self._preloaded = dict(preloaded or {})
        self._only = only
        self._loaded: dict[str, tuple[Any, Any]] = {}

    def _load(self, name: str, target: str) -> tuple[Any, Any]:
        if name not in self._loaded:
            from rules.plugin_manager import PluginRegistry

            if self._only is not None and name != self._only:
                raise SandboxError(f"this sandbox runs {self._only!r} only")
            plugin = self._preloaded.get(name)
            if plugin is None:
                module, _, attribute = target.partition(":")
                plugin = importlib.import_module(module)
                for part in filter(None, attribute.split(".")):
                    plugin = getattr(plugin, part)
            registry = PluginRegistry()
            info = registry.register(plugin)  # the same checks as the engine's, misspelt hooks included
            self._loaded[name] = (registry, info)
        return self._loaded[name]

    def handle(self, message: Mapping[str, Any]) -> dict[str, Any]:
        try:
            registry, info = self._load(message["plugin"], message.get("target", message["plugin"]))
            op = message["op"]
            if op == "describe":
                hooks = sorted(caller.name for caller in registry.pm.get_hookcallers(registry.pm.get_plugin(info.name))
                               if caller.name != "siyu_plugin_info")
                return {"info": {"name": info.name, "version": info.version,
                                 "paramsSchema": wire.encode(info.params_schema), "order": info.order,
                                 "description": info.description, "dueOffsetsDays": list(info.due_offsets_days),
                                 "hasCheck": info.check is not None, "afterErasure": info.after_erasure},
                        "hooks": hooks}
            if op == "check":
                params = wire.decode(message["params"])
                return {"problems": [list(p) for p in (info.check(params) if info.check else [])]}
            if op == "call":
                subject = wire.load_event(message["event"])
                context = wire.load_context(message["context"])
                argument = "sweep" if message["hook"] in sweep_hooks() else "event"
                results = registry.call(info.name, message["hook"], context=context, **{argument: subject})
                return {"effects": [wire.dump_effect(effect) for result in results if result is not None
                                    for effect in result]}
            return {"error": f"unknown op {op!r}"}
        except Exception as error:  # noqa: BLE001 - whatever the plugin raised goes back, by name, as the answer
            return {"error": f"{type(error).__name__}: {error}"[:1000]}


_lambda_host: Host | None = None


class InProcessRunner:
    """The same protocol with no process boundary: for `rules.testing.PluginCase` (a partner's own tests, which
    hold no credentials) and for measuring what the boundary costs (bench/). Never used by a deployment."""

    def __init__(self, plugins: Mapping[str, Any]) -> None:
        self.host = Host(preloaded=plugins)

    def request(self, name: str, target: str, message: Mapping[str, Any]) -> dict[str, Any]:
        answer = self.host.handle(json.loads(json.dumps({**message, "plugin": name, "target": target})))
        answer = json.loads(json.dumps(answer))
        if "error" in answer:
            raise SandboxError(answer["error"])
        return answer


def lambda_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    """A partner's Lambda function (serverless.yml): `SIYU_SANDBOX_PLUGIN` names the one plugin it runs."""
    global _lambda_host
    if _lambda_host is None:
        _lambda_host = Host(only=os.environ.get("SIYU_SANDBOX_PLUGIN") or None)
    return _lambda_host.handle(event)


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - runs as the subprocess
    argv = list(sys.argv[1:] if argv is None else argv)
    while "--path" in argv:
        at = argv.index("--path")
        sys.path.insert(0, argv[at + 1])
        del argv[at:at + 2]
    # The protocol keeps the real stdout; a plugin's print() goes to stderr (the logs) instead of corrupting it.
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    host = Host()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            message = json.loads(line)
        except ValueError:
            answer: dict[str, Any] = {"error": "the request is not JSON"}
        else:
            answer = host.handle(message)
        protocol.write(json.dumps(answer, ensure_ascii=False) + "\n")
        protocol.flush()
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
