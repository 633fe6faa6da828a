"""Instructions per order.paid, engine against the raw-boto3 floor, counted by callgrind: the figure load cannot move.

`bench/cpu.py` measures CPU time, which on a shared 2-core machine moves by about 0.05 of the ratio between runs.
This counts the instructions the process executes instead (valgrind's callgrind), with the embedded DynamoDB in a
separate process so that only the side measured is counted: each side runs its setup and then N events, twice (N
small and N large, each against a fresh server), and the difference divided by the extra events is its cost per
event, setup and start-up cancelled out. The engine runs order.paid with every built-in over 24 members with 10
past orders each, as `bench/cpu.py` does; the floor is `bench/floor.py`'s `Floor.order_paid` (one Query, one
TransactWriteItems). Instructions are not time: the engine's Python touches more memory per instruction than
botocore's loops, so its CPU-time ratio is higher than this one; read both.

    .venv/bin/python bench/instructions.py                 # about 5 minutes (valgrind runs Python ~50x slower)
    .venv/bin/python bench/instructions.py --side engine   # one side only
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEMBERS = 24
ENVIRONMENT = dict(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                   SIYU_STAGE="local", TABLE_NAME="siyu-instructions", EVENT_BUS_NAME="local",
                   SIYU_PARTNER_PLUGINS="", SIYU_EVENT_MAX_AGE_DAYS="60", PYTHONHASHSEED="0")
SERVER = ("import sys, time\nfrom infra.embedded_dynamodb import EmbeddedDynamoDB\n"
          "server = EmbeddedDynamoDB(port=int(sys.argv[1])).start()\nprint('ready', flush=True)\n"
          "while True:\n    time.sleep(3600)\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--side", choices=["engine", "floor", "both"], default="both")
    parser.add_argument("--small", type=int, default=50, help="events in the first run")
    parser.add_argument("--large", type=int, default=200, help="events in the second run")
    parser.add_argument("--drive", choices=["engine", "floor"], help=argparse.SUPPRESS)  # the measured process
    parser.add_argument("--events", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.drive:
        (drive_engine if args.drive == "engine" else drive_floor)(args.endpoint, args.events)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (apt-get install valgrind): nothing measured", file=sys.stderr)
        return 2
    sides = ["engine", "floor"] if args.side == "both" else [args.side]
    per_event = {}
    print(f"order.paid, instructions per event (callgrind; runs of {args.small} and {args.large} events after "
          f"the same setup, the difference divided by {args.large - args.small})")
    for side in sides:
        small, large = (instructions(side, n) for n in (args.small, args.large))
        per_event[side] = (large - small) / (args.large - args.small)
        print(f"  {side:6}  {per_event[side] / 1e6:6.2f}M   ({small:,} and {large:,} in all)")
    if len(per_event) == 2:
        print(f"  engine / floor = {per_event['engine'] / per_event['floor']:.2f}x in instructions "
              f"(issue 15's budget, 1.3x, is for CPU time: bench/cpu.py)")
    return 0


def instructions(side: str, events: int) -> int:
    """Instructions of one run of `side` with `events` events, against a fresh embedded DynamoDB."""
    port = _free_port()
    env = {**os.environ, **ENVIRONMENT, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        if server.stdout.readline().strip() != "ready":
            raise RuntimeError("the embedded DynamoDB did not start")
        with tempfile.TemporaryDirectory() as scratch:
            out = Path(scratch) / "callgrind.out"
            done = subprocess.run(
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                 "--drive", side, "--events", str(events), "--endpoint", f"http://127.0.0.1:{port}"],
                cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"{side} with {events} events failed:\n{done.stderr[-3000:]}")
            found = re.search(r"Collected : ([\d,]+)", done.stderr)
            return int(found.group(1).replace(",", ""))
    finally:
        server.kill()
        server.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _bind(endpoint: str):
    import boto3

    from infra import db, settings, table

    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    config = settings.reload()
    for attempt in range(50):  # the server answers once its socket listens
        try:
            table.create_table(boto3.client("dynamodb", endpoint_url=endpoint), config.table_name)
            break
        except Exception:  # noqa: BLE001 - not listening yet
            time.sleep(0.1)
    db.bind(config)
    return config


def drive_engine(endpoint: str, events: int) -> None:
    import logging
    import random

    logging.disable(logging.INFO)  # as bench/cpu.py: a deployed function logs one line per event
    _bind(endpoint)
    from bench.stack import put_bench_brand
    from infra.dynamo_store import DynamoStore
    from infra.eventbus import InProcessBus
    from rules.engine import Engine
    from rules.plugin_manager import registry
    from rules.registration import register_member

    store = DynamoStore(brand_cache_seconds=3600)
    plugins = registry()
    put_bench_brand(store, plugins)
    engine = Engine(store, plugins, InProcessBus())
    ids = random.Random(7)  # the same events in every run: the two runs differ only in how many
    clock = [datetime(2026, 11, 1, tzinfo=timezone.utc)]

    def order(member: str, k: int) -> dict:
        clock[0] += timedelta(minutes=3)
        return {"version": "0", "id": f"cpu-{ids.getrandbits(64):x}", "detail-type": "order.paid",
                "source": "siyu.shop", "time": clock[0].isoformat(),
                "detail": {"brandId": "bench", "memberId": member, "orderId": f"o-{ids.getrandbits(40):x}",
                           "amountFen": 9900 + 1700 * (k % 9), "channel": "miniprogram"}}

    members = [register_member(store, brand_id="bench", phone_number=f"139{n:08d}", channel="miniprogram",
                               now=clock[0], phone_key="bench").member_id for n in range(MEMBERS)]
    for k in range(10 * MEMBERS + events):  # ten past orders each, then the events measured
        summary = engine.handle(order(members[k % MEMBERS], k))
        assert summary.status == "applied", summary.reason


def drive_floor(endpoint: str, events: int) -> None:
    import boto3

    config = _bind(endpoint)
    from bench.floor import Floor

    floor = Floor(boto3.client("dynamodb", endpoint_url=endpoint), config.table_name)
    members = [floor.member(live_lots=10) for _ in range(MEMBERS)]
    at = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for k in range(MEMBERS + events):  # one warm-up order each, then the events measured
        at += timedelta(minutes=3)
        floor.order_paid(members[k % MEMBERS], at)


if __name__ == "__main__":
    sys.exit(main())
