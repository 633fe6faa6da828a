"""Import time of the Lambda handlers, the bulk of a cold start, against `import boto3` measured in the same run.

Each import is timed in a fresh interpreter (`python -c`), several times, interleaved (one round imports boto3, then
each handler, so a busy machine slows all sides alike), and the median is reported, with each handler's ratio to
`import boto3` and the budget issue 15 sets (api.handler 2.5x, events.handler 1.5x), after one untimed run that
leaves the bytecode cache warm (the artifact ships precompiled .pyc files, see the Makefile).
Interpreter start-up is not counted: the clock starts inside the child, just before the import. No pass or fail:
this prints numbers to compare between changes and machines.

The artifact also ships the bytecode of the methods dataclasses generates (infra/dataclass_code.py) and botocore's
parsed data files (infra/botocore_data.py), which the handlers install first: this builds both the same way before
timing (`--no-precompiled` turns them off in the children, to see what they save; `--artifact build/lambda` imports
the unpacked artifact itself instead of the checkout).

The handlers build their app, store and engine on the first invocation, not at import, so the import alone is not
the cold start. `--first-call` (the default) also times, in the same children, the first invocation after the
import, against an embedded DynamoDB (and EventBridge) this process serves: an `order.paid` for a registered member
of a configured brand into `events.handler`, a `{ __typename }` POST into `api.handler`, and for the baseline the
first request of a fresh boto3 client (a GetItem). The cold start is the sum, and that is compared too.

    make bench
    .venv/bin/python bench/import_time.py --runs 9 --top 8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

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

# The first invocation after the import, in the same child: the clock restarts after the import.
FIRST_CALL = {
    "boto3": "import boto3; boto3.client('dynamodb').get_item(TableName=os.environ['TABLE_NAME'], "
             "Key={'pk': {'S': 'cold'}, 'sk': {'S': 'start'}})",
    "api.handler": "from api.handler import handler; "
                   "r = handler(json.loads(os.environ['BENCH_HTTP_EVENT']), None); assert r['statusCode'] == 200, r",
    "events.handler": "from events.handler import handler; "
                      "e = json.loads(os.environ['BENCH_ORDER']); e['id'] = uuid.uuid4().hex; "
                      "e['detail']['orderId'] = 'o-' + e['id'][:10]; "
                      "e['time'] = datetime.now(timezone.utc).isoformat(); "
                      "r = handler(e); assert r['status'] == 'applied', r",
}
TIMED_FIRST_CALL = ("import json, os, uuid; from datetime import datetime, timezone; import time; "
                    "t, c = time.perf_counter(), time.process_time(); import {module}; "
                    "i, ic = time.perf_counter() - t, time.process_time() - c; "
                    "t, c = time.perf_counter(), time.process_time(); {call}; "
                    "print(i, time.perf_counter() - t, ic, time.process_time() - c)")


STACK: dict[str, str] = {}  # the embedded endpoints and sample events, when --first-call serves them
# What the Makefile precompiles dataclasses' methods from for the artifact (DATACLASS_MODULES).
DATACLASS_MODULES = ["api.app", "infra.runtime", "events.stream", "events.sweep_worker"]


CODE = {"path": str(ROOT)}  # where the children import Siyu from: this checkout, or an unpacked artifact


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SIYU_", "PYTHON"))}
    env.update(ENVIRONMENT)
    env.update(STACK)
    env["PYTHONPATH"] = CODE["path"]
    return env


def run(args: list[str]) -> subprocess.CompletedProcess:
    # From the code's own folder: `python -c` puts the working directory first on sys.path.
    return subprocess.run([sys.executable, *args], cwd=CODE["path"], env=child_env(), capture_output=True, text=True)


BUDGET = {"api.handler": 2.5, "events.handler": 1.5}  # issue 15: at most this many times `import boto3`


def time_once(module: str, first_call: bool = False) -> tuple[float, ...]:
    """Seconds to import `module` in a fresh interpreter, then to run its first invocation (0 without
    `first_call`), then the process's CPU seconds for each of the two. Raises on an import or invocation error."""
    script = TIMED_FIRST_CALL.format(module=module, call=FIRST_CALL[module]) if first_call \
        else TIMED.format(module=module)
    done = run(["-c", script])
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "exit %d" % done.returncode)
    figures = [float(x) for x in done.stdout.strip().splitlines()[-1].split()]
    return tuple(figures) if len(figures) > 1 else (figures[0], 0.0, 0.0, 0.0)


def time_interleaved(modules: list[str], runs: int, first_call: bool = False) -> dict[str, list[tuple[float, ...]]]:
    """`runs` rounds, each importing every module once in turn (after one untimed warm-up round)."""
    samples: dict[str, list[tuple[float, ...]]] = {m: [] for m in modules}
    for attempt in range(runs + 1):
        for module in modules:
            seconds = time_once(module, first_call)
            if attempt:
                samples[module].append(seconds)
    return samples


def serve_stack() -> Any:
    """An embedded DynamoDB and EventBridge with the table, one configured brand and one member, for the children's
    first invocations (this process serves them; the children reach it over HTTP as they would reach AWS)."""
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    os.environ["SIYU_STAGE"] = "local"  # this process only seeds; the children run as ENVIRONMENT says
    import boto3

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    server = EmbeddedDynamoDB().start()
    region = ENVIRONMENT["AWS_REGION"]
    STACK.update(AWS_ENDPOINT_URL_DYNAMODB=server.endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE=server.endpoint)
    os.environ.update(STACK)
    from infra import db, settings, table
    from infra.dynamo_store import DynamoStore
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.plugin_manager import registry
    from rules.registration import register_member

    config = settings.reload()
    table.create_table(boto3.client("dynamodb", endpoint_url=server.endpoint, region_name=region), config.table_name)
    boto3.client("events", endpoint_url=server.endpoint, region_name=region).create_event_bus(
        Name=ENVIRONMENT["EVENT_BUS_NAME"])
    db.bind(config)
    store = DynamoStore()
    plugins = registry()
    enabled = {n: plugins.validate_params(n, {}) for n in ("points", "tiers", "points_expiry", "referral", "crisis")}
    store.put_brand(BrandConfig("bench", "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    now = datetime.now(timezone.utc)
    member = register_member(store, brand_id="bench", phone_number="13900000001", channel="miniprogram", now=now,
                             phone_key=ENVIRONMENT["PHONE_HASH_KEY"]).member_id
    STACK["BENCH_ORDER"] = json.dumps({
        "version": "0", "id": "x", "detail-type": "order.paid", "source": "siyu.brand.bench", "time": now.isoformat(),
        "detail": {"brandId": "bench", "memberId": member, "orderId": "x", "amountFen": 25900,
                   "channel": "miniprogram"}})
    STACK["BENCH_HTTP_EVENT"] = json.dumps({
        "version": "2.0", "routeKey": "POST /graphql", "rawPath": "/graphql", "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com"},
        "requestContext": {"accountId": "123456789012", "apiId": "bench", "domainName": "api.example.com",
                           "domainPrefix": "api", "http": {"method": "POST", "path": "/graphql",
                                                           "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                                                           "userAgent": "bench"},
                           "requestId": "bench", "routeKey": "POST /graphql", "stage": "$default",
                           "time": "01/Mar/2026:02:00:00 +0000", "timeEpoch": 1772330400000},
        "body": json.dumps({"query": "{ __typename }"}), "isBase64Encoded": False})
    return server


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
    parser.add_argument("--no-first-call", dest="first_call", action="store_false",
                        help="time the imports only (no embedded stack, no first invocation)")
    parser.add_argument("--artifact", metavar="DIR", default="",
                        help="import from this unpacked Lambda artifact (build/lambda) instead of the checkout")
    parser.add_argument("--no-precompiled", dest="precompiled", action="store_false",
                        help="children compile dataclasses' methods and parse botocore's JSON, as without the "
                             "artifact's caches")
    options = parser.parse_args(argv)

    print(f"{sys.executable} (Python {sys.version.split()[0]}), median of {options.runs} fresh interpreters, "
          "interleaved")
    modules = [m for m, path in HANDLERS.items() if path.exists()]
    if options.artifact:
        # The unpacked Lambda artifact (`make build/siyu.zip` leaves it in build/lambda): its code, its pinned
        # dependencies and their unchecked-hash .pyc files, its precompiled dataclass methods. Its one compiled
        # module is for arm64 (rpds, under jsonschema), which neither first invocation imports.
        CODE["path"] = str(Path(options.artifact).resolve())
        where = run(["-c", "import events.handler, infra.dataclass_code, botocore; "
                           "print(events.handler.__file__, infra.dataclass_code.CACHE, botocore.__file__)"])
        files = where.stdout.split()
        if where.returncode != 0 or not all(f.startswith(CODE["path"]) for f in files) or len(files) != 3:
            print(f"the children do not import {options.artifact}: {where.stdout.strip()} {where.stderr.strip()}")
            return 1
        print(f"children import the artifact unpacked in {options.artifact} (its code, dependencies and caches)")
    if not options.precompiled:
        ENVIRONMENT.update(SIYU_DATACLASS_CODE="0", SIYU_BOTOCORE_DATA="0")
        print("without the precompiled dataclass methods and botocore data (SIYU_DATACLASS_CODE=0, "
              "SIYU_BOTOCORE_DATA=0)")
    elif not options.artifact:
        ready = []
        for command in (["-m", "infra.dataclass_code", *DATACLASS_MODULES], ["-m", "infra.botocore_data"]):
            built = run(command)
            if built.returncode != 0:
                print(f"{command[1]} failed: {built.stderr.strip()[-500:]}")
                return 1
            ready.append(built.stdout.strip().split(": ", 1)[-1])
        print(f"as the artifact: {' and '.join(ready)} (infra/dataclass_code.py, infra/botocore_data.py)")
    server = serve_stack() if options.first_call else None
    try:
        samples = time_interleaved([BASELINE, *modules], options.runs, options.first_call)
    except RuntimeError as error:
        print(f"import failed: {error}")
        return 1
    finally:
        if server is not None:
            server.stop()
    imports = {m: [s[0] for s in samples[m]] for m in samples}
    baseline = statistics.median(imports[BASELINE])
    print(f"import {BASELINE}: {ms(baseline)}")

    for module in modules:
        median = statistics.median(imports[module])
        ratio = median / baseline
        within = ratio <= BUDGET[module]
        print(
            f"{module}: {ms(median)} = {ratio:.2f}x import {BASELINE} ({ms(baseline)}), budget {BUDGET[module]}x: "
            f"{'within' if within else 'OVER'}  [min {ms(min(imports[module]))}, max {ms(max(imports[module]))}]"
        )
        for us, name in slowest_imports(module, options.top):
            print(f"    {us / 1000:7.0f} ms  {name}")
    if options.first_call:
        first = {m: statistics.median(s[1] for s in samples[m]) for m in samples}
        cold = {m: statistics.median(s[0] + s[1] for s in samples[m]) for m in samples}
        print(f"\nimport + first invocation (the cold start), medians of the same children:")
        print(f"  boto3: import {ms(baseline)} + first GetItem of a new client {ms(first[BASELINE])} = "
              f"{ms(cold[BASELINE])}")
        what = {"api.handler": "first request { __typename }", "events.handler": "first order.paid"}
        for module in modules:
            print(f"  {module}: import {ms(statistics.median(imports[module]))} + {what[module]} "
                  f"{ms(first[module])} = {ms(cold[module])} = {cold[module] / cold[BASELINE]:.2f}x boto3's")
        # CPU seconds of the child process: what a busy machine's waiting does not inflate.
        cpu = {m: statistics.median(s[2] + s[3] for s in samples[m]) for m in samples}
        print(f"the same in CPU time (the child's process_time, less sensitive to a loaded machine): boto3 "
              f"{ms(cpu[BASELINE])}, " + ", ".join(f"{m} {ms(cpu[m])} = {cpu[m] / cpu[BASELINE]:.2f}x"
                                                   for m in modules))
    return 0


if __name__ == "__main__":
    sys.exit(main())
