"""Import time of the Lambda handlers, the bulk of a cold start, against `import boto3` measured in the same run.

Each import is timed in a fresh interpreter (`python -c`), several times, interleaved (one round imports boto3, then
each handler, so a busy machine slows all sides alike), and the median is reported, with each handler's ratio to
`import boto3` and the budget issue 15 sets (api.handler 2.5x, events.handler 1.5x), after one untimed run that
leaves the bytecode cache warm (the artifact ships precompiled .pyc files, see the Makefile).
Interpreter start-up is not counted: the clock starts inside the child, just before the import. No pass or fail:
this prints numbers to compare between changes and machines.

    make bench
    .venv/bin/python bench/import_time.py --runs 9 --top 8
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = "boto3"
HANDLERS = {"api.handler": ROOT / "api" / "handler.py", "events.handler": ROOT / "events" / "handler.py"}

# What a deployed function sees (serverless.yml), with stand-ins for the secrets; nothing here talks to AWS.
ENVIRONMENT = {
    "SIYU_STAGE": "bench",
    "TABLE_NAME": "siyu-bench",
    "EVENT_BUS_NAME": "siyu-bench",
    "JWT_SECRET": secrets.token_urlsafe(32),  # outside local the settings refuse weak secrets
    "JWT_ISSUER": "siyu-bench",
    "PHONE_HASH_KEY": secrets.token_urlsafe(32),
    "AWS_REGION": "ap-northeast-1",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_EC2_METADATA_DISABLED": "true",
}

TIMED = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SIYU_", "PYTHON"))}
    env.update(ENVIRONMENT)
    env["PYTHONPATH"] = str(ROOT)
    return env


def run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=child_env(), capture_output=True, text=True)


BUDGET = {"api.handler": 2.5, "events.handler": 1.5}  # issue 15: at most this many times `import boto3`


def time_once(module: str) -> float:
    """Seconds to import `module` in a fresh interpreter. Raises on an import error."""
    done = run(["-c", TIMED.format(module=module)])
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "exit %d" % done.returncode)
    return float(done.stdout.strip().splitlines()[-1])


def time_interleaved(modules: list[str], runs: int) -> dict[str, list[float]]:
    """`runs` rounds, each importing every module once in turn (after one untimed warm-up round)."""
    samples: dict[str, list[float]] = {m: [] for m in modules}
    for attempt in range(runs + 1):
        for module in modules:
            seconds = time_once(module)
            if attempt:
                samples[module].append(seconds)
    return samples


def slowest_imports(module: str, top: int) -> list[tuple[int, str]]:
    """The `top` packages (boto3, strawberry, ...) that cost `module` the most, from `python -X importtime`.

    A package is charged the cumulative time of each import of it from outside itself, so the figures overlap
    (pynamodb's includes the botocore it imports first).
    """
    done = run(["-X", "importtime", "-c", f"import {module}"])
    lines = []
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( +)(\S+)$", line)
        if match:
            lines.append(((len(match.group(2)) - 1) // 2, match.group(3), int(match.group(1))))
    root = module.split(".")[0]
    ancestors: list[str] = []
    charged: dict[str, int] = {}
    for level, name, cumulative in reversed(lines):  # the listing is post-order: parents follow their children
        del ancestors[level:]
        ancestors.append(name)
        package = name.split(".")[0]
        if ancestors[0].split(".")[0] != root or package == root:
            continue
        if level and ancestors[-2].split(".")[0] == package:
            continue
        charged[package] = charged.get(package, 0) + cumulative
    return sorted(((us, name) for name, us in charged.items()), reverse=True)[:top]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per module (default 7); the median counts")
    parser.add_argument("--top", type=int, default=5, help="slowest top-level packages to list per handler (0: none)")
    options = parser.parse_args(argv)

    print(f"{sys.executable} (Python {sys.version.split()[0]}), median of {options.runs} fresh interpreters, "
          "interleaved")
    modules = [m for m, path in HANDLERS.items() if path.exists()]
    try:
        samples = time_interleaved([BASELINE, *modules], options.runs)
    except RuntimeError as error:
        print(f"import failed: {error}")
        return 1
    baseline = statistics.median(samples[BASELINE])
    print(f"import {BASELINE}: {ms(baseline)}")

    failed = False
    for module in modules:
        median = statistics.median(samples[module])
        ratio = median / baseline
        within = ratio <= BUDGET[module]
        print(
            f"{module}: {ms(median)} = {ratio:.2f}x import {BASELINE} ({ms(baseline)}), budget {BUDGET[module]}x: "
            f"{'within' if within else 'OVER'}  [min {ms(min(samples[module]))}, max {ms(max(samples[module]))}]"
        )
        for us, name in slowest_imports(module, options.top):
            print(f"    {us / 1000:7.0f} ms  {name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
