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

The sandbox itself (the process that loads the partner plugin) is rules/sandbox_host.py.
"""

from __future__ import annotations

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
    from rules.plugin_info import PluginInfo

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
        from rules.errors import PluginFailed

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
        command = [sys.executable, "-E", "-s", "-m", "rules.sandbox_host"]
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


_default: Any = None
# Runners the deployment provides beyond the subprocess one, by `SIYU_PARTNER_RUNNER` name: factory(timeout) ->
# runner. The composition root installs the AWS one (infra/runtime.py: a Lambda function per partner package).
RUNNERS: dict[str, Callable[[float], Any]] = {}


def install_runner(kind: str, factory: Callable[[float], Any]) -> None:
    RUNNERS[kind] = factory


def default_runner() -> Any:
    """The runner the environment names: `SIYU_PARTNER_RUNNER` = `subprocess` (default) or `lambda`."""
    global _default
    if _default is None:
        kind = os.environ.get("SIYU_PARTNER_RUNNER", "subprocess")
        timeout = float(os.environ.get("SIYU_PARTNER_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS))
        if kind in RUNNERS:
            _default = RUNNERS[kind](timeout)
        elif kind == "subprocess":
            _default = SubprocessRunner(timeout=timeout,
                                        memory_mb=int(os.environ.get("SIYU_PARTNER_MEMORY_MB", DEFAULT_MEMORY_MB)))
        else:
            raise RuntimeError(f"SIYU_PARTNER_RUNNER must be subprocess or one of {sorted(RUNNERS)} (installed by "
                               "the composition root)")
    return _default


def close_default_runner() -> None:
    global _default
    if _default is not None and hasattr(_default, "close"):
        _default.close()
    _default = None
