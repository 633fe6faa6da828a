"""Where partner plugins run: never in a process that holds table credentials or secrets.

The engine's process registers a stand-in for each partner plugin (`remote_plugin`). Its hooks send the event and
the read-only context, serialised (rules/wire.py), to a sandbox that loads the partner's package and calls the real
plugin there; the effects come back serialised and the engine checks every one as it checks a built-in's.

- **locally** (`SubprocessRunner`, the default): one Python subprocess per partner plugin, started with an empty
  environment (no AWS credentials, no endpoint URL, no JWT secret, a HOME of its own), a memory cap and a timeout
  per call;
- **in AWS** (`infra.partner_lambda.LambdaRunner`, `SIYU_PARTNER_RUNNER=lambda`): a Lambda function per partner
  package, whose role can do nothing but write its logs (serverless.yml), with its own timeout and memory size.
  Its handler is `lambda_handler` below.

The protocol, one JSON object each way: `{"op": "describe" | "check" | "call", "plugin": <entry-point name>,
"target": <module[:attribute]>, ...}`, answered with `{"info":..., "hooks": [...]}`, `{"problems": [...]}`,
`{"effects": [...]}`, or `{"error": "..."}`.

Run a sandbox by hand: `python -m rules.sandbox` reads requests from stdin, one per line.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import select
import subprocess
import sys
import tempfile
import threading
import time
import types
from typing import Any, Callable, Mapping

from rules import wire
from rules.hookspecs import hookimpl

logger = logging.getLogger("siyu.sandbox")



def sweep_hooks() -> frozenset[str]:
    """Hooks called with a `sweep` rather than an `event`: the daily member sweep's and the families' own."""
    from rules.family import families

    return frozenset({"siyu_member_due"} | {s.hook for s in families().sweeps.values()})
DEFAULT_TIMEOUT_SECONDS = 3.0
DEFAULT_MEMORY_MB = 256


class SandboxError(Exception):
    """The sandbox could not answer: the plugin raised there, timed out, or the sandbox died."""


# ---- the engine's side -----------------------------------------------------------------------------------------


def remote_plugin(runner: Any, name: str, target: str) -> types.ModuleType:
    """A stand-in for a partner plugin that runs in `runner`'s sandbox: its `PluginInfo` as the sandbox describes
    it, and one hook implementation for each hook the real plugin implements."""
    from rules.plugin_manager import PluginInfo

    described = runner.request(name, target, {"op": "describe"})
    data = described["info"]

    def check(params: Mapping[str, Any]) -> list[tuple[str, str]]:
        answer = runner.request(name, target, {"op": "check", "params": wire.encode(params)})
        return [(str(where), str(problem)) for where, problem in answer["problems"]]

    info = PluginInfo(name=data["name"], version=data["version"], params_schema=data["paramsSchema"],
                      order=data["order"], description=data["description"],
                      due_offsets_days=tuple(data["dueOffsetsDays"]), check=check if data["hasCheck"] else None,
                      after_erasure=data["afterErasure"])
    stand_in = types.ModuleType(f"sandboxed:{name}")

    @hookimpl
    def siyu_plugin_info():
        return info

    stand_in.siyu_plugin_info = siyu_plugin_info
    for hook in described["hooks"]:
        setattr(stand_in, hook, _forwarding_hook(runner, name, target, info.name, hook))
    return stand_in


def _forwarding_hook(runner: Any, name: str, target: str, plugin: str, hook: str) -> Callable:
    def forward(subject, context):
        from rules.engine import PluginFailed

        try:
            answer = runner.request(name, target, {"op": "call", "hook": hook, "event": wire.dump_event(subject),
                                                   "context": wire.dump_context(context)})
            return [wire.load_effect(effect) for effect in answer["effects"]]
        except (SandboxError, wire.WireError) as error:
            raise PluginFailed(plugin, str(error)) from None

    # pluggy passes hook arguments by name, so the stand-in takes the spec's own.
    if hook in sweep_hooks():
        def implementation(sweep, context):
            return forward(sweep, context)
    else:
        def implementation(event, context):
            return forward(event, context)
    implementation.__name__ = hook
    return hookimpl(implementation)


class SubprocessRunner:
    """One sandbox subprocess per partner plugin, started on first use and kept (a warm call is a pipe round trip).

    Calls to one plugin are serialised; a call that outlives `timeout` kills its subprocess (the next call starts a
    new one). `paths` are put on the sandbox's sys.path (a plugin tested from a source tree)."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT_SECONDS, memory_mb: int = DEFAULT_MEMORY_MB,
                 paths: tuple[str, ...] = ()) -> None:
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.paths = paths
        self._workers: dict[str, _Worker] = {}
        self._lock = threading.Lock()

    def request(self, name: str, target: str, message: Mapping[str, Any]) -> dict[str, Any]:
        with self._lock:
            worker = self._workers.get(name)
            if worker is None or not worker.alive():
                worker = self._workers[name] = _Worker(self.memory_mb, self.paths)
        try:
            answer = worker.ask({**message, "plugin": name, "target": target}, self.timeout)
        except SandboxError:
            worker.close()
            raise
        if "error" in answer:
            raise SandboxError(answer["error"])
        return answer

    def close(self) -> None:
        with self._lock:
            for worker in self._workers.values():
                worker.close()
            self._workers.clear()


def sandbox_environment(home: str) -> dict[str, str]:
    """All a sandbox gets: nothing that reaches the table, AWS, or a secret."""
    return {
        "PATH": os.defpath, "LANG": "C.UTF-8", "PYTHONIOENCODING": "utf-8", "PYTHONDONTWRITEBYTECODE": "1",
        # botocore would read ~/.aws and the instance metadata service; neither is there for a sandbox.
        "HOME": home, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true", "SIYU_SANDBOX": "1",
    }


class _Worker:
    def __init__(self, memory_mb: int, paths: tuple[str, ...]) -> None:
        self._home = tempfile.TemporaryDirectory(prefix="siyu-sandbox-")
        command = [sys.executable, "-E", "-s", "-m", "rules.sandbox"]
        for path in paths:
            command += ["--path", path]

        def limit() -> None:  # pragma: no cover - runs in the child
            try:
                import resource

                cap = memory_mb * 1024 * 1024
                resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            except (ImportError, ValueError, OSError):
                pass

        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=None,
                                        cwd=self._home.name, env=sandbox_environment(self._home.name),
                                        preexec_fn=limit if os.name == "posix" else None)
        self._buffer = b""
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, message: Mapping[str, Any], timeout: float) -> dict[str, Any]:
        with self.lock:
            try:
                self.process.stdin.write(json.dumps(message).encode() + b"\n")
                self.process.stdin.flush()
            except (BrokenPipeError, OSError):
                raise SandboxError(f"the sandbox exited (code {self.process.poll()})") from None
            deadline = time.monotonic() + timeout
            out = self.process.stdout.fileno()
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([out], [], [], left)[0]:
                    raise SandboxError(f"no answer within {timeout:g} s; the sandbox was stopped")
                chunk = os.read(out, 65536)
                if not chunk:
                    raise SandboxError(f"the sandbox exited (code {self.process.wait()})")
                self._buffer += chunk
            line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        if self.alive():
            self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            stream.close()
        self._home.cleanup()


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


_default: Any = None


def default_runner() -> Any:
    """The runner the environment names: `SIYU_PARTNER_RUNNER` = `subprocess` (default) or `lambda`."""
    global _default
    if _default is None:
        kind = os.environ.get("SIYU_PARTNER_RUNNER", "subprocess")
        timeout = float(os.environ.get("SIYU_PARTNER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
        if kind == "lambda":
            from infra.partner_lambda import LambdaRunner

            _default = LambdaRunner(os.environ["SIYU_PARTNER_FUNCTION_PREFIX"], timeout=timeout)
        elif kind == "subprocess":
            _default = SubprocessRunner(timeout=timeout,
                                        memory_mb=int(os.environ.get("SIYU_PARTNER_MEMORY_MB", DEFAULT_MEMORY_MB)))
        else:
            raise RuntimeError("SIYU_PARTNER_RUNNER must be subprocess or lambda")
    return _default


def close_default_runner() -> None:
    global _default
    if _default is not None and hasattr(_default, "close"):
        _default.close()
    _default = None


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
