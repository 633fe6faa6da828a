"""Engine CPU for order.paid against a raw-boto3 floor doing the fewest requests a design needs, in one process.

The floor (`bench/floor.py`, `Floor.order_paid`) is the same business change written by hand with a boto3 client:
one strongly consistent Query of the member's state partition and one TransactWriteItems (profile, new lot, ledger
entry), on the same table, against the same embedded DynamoDB, in the same process, interleaved with the engine's
events, so both sides meet the same machine load. CPU is the calling thread's (`time.thread_time`): the embedded
server answers on its own threads, so its work is not counted on either side; waiting is not CPU. The floor's
member has as many live lots as the engine's, so both Queries return alike.

    .venv/bin/python bench/cpu.py --events 200            # the ratio (issue 15: at most 1.3x)
    .venv/bin/python bench/cpu.py --events 200 --profile  # and where the engine's CPU goes
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BUDGET = 1.3


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200, help="order.paid events measured (and as many floors)")
    parser.add_argument("--members", type=int, default=24)
    parser.add_argument("--profile", action="store_true", help="print the engine's top functions by own CPU")
    parser.add_argument("--profile-out", help="with --profile, also save the engine's profile here (pstats)")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      SIYU_STAGE="local", TABLE_NAME="siyu-cpu", EVENT_BUS_NAME="local", SIYU_PARTNER_PLUGINS="",
                      SIYU_EVENT_MAX_AGE_DAYS="60")
    import logging

    import boto3

    from bench.stack import embedded_table, put_bench_brand

    logging.disable(logging.INFO)  # a deployed function logs one line per event; neither side pays for more here
    server, config = embedded_table()

    from bench.floor import Floor
    from infra.dynamo_store import DynamoStore
    from infra.eventbus import InProcessBus
    from rules.engine import Engine
    from rules.plugin_manager import registry
    from rules.registration import register_member

    store = DynamoStore(brand_cache_seconds=3600)
    plugins = registry()
    put_bench_brand(store, plugins)
    engine = Engine(store, plugins, InProcessBus())
    floor = Floor(boto3.client("dynamodb", endpoint_url=server.endpoint), config.table_name)
    clock = [datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(days=20)]

    def tick() -> datetime:
        clock[0] += timedelta(minutes=3)
        return clock[0]

    def order(member: str, k: int) -> dict:
        return {"version": "0", "id": f"cpu-{uuid.uuid4()}", "detail-type": "order.paid", "source": "siyu.shop",
                "time": tick().isoformat(), "detail": {"brandId": "bench", "memberId": member,
                                                       "orderId": f"o-{uuid.uuid4().hex[:10]}",
                                                       "amountFen": 9900 + 1700 * (k % 9), "channel": "miniprogram"}}

    members = [register_member(store, brand_id="bench", phone_number=f"139{n:08d}", channel="miniprogram",
                               now=clock[0], phone_key="bench").member_id for n in range(args.members)]
    for k in range(10 * len(members)):  # ten past orders each, as the bench mix has
        engine.handle(order(members[k % len(members)], k))
    store.get_brand("bench")
    lots = len(store.load_member("bench", members[0]).points.lots)
    floors = [floor.member(live_lots=lots) for _ in members]
    for fm in floors:  # warm the floor's client too (its first request loads botocore's service model)
        floor.order_paid(fm, tick())

    in_botocore = [0.0]
    # Where the engine's CPU goes: its member read, its transaction, and the rest (plugins, planning, logging).
    spent = {"load_member": 0.0, "commit_event": 0.0}
    spent_botocore = dict.fromkeys(spent, 0.0)  # of which inside botocore's request calls
    for name in spent:
        def timed(*a, _real=getattr(store, name), _name=name, **kw):
            started, before = time.thread_time(), in_botocore[0]
            try:
                return _real(*a, **kw)
            finally:
                spent[_name] += time.thread_time() - started
                spent_botocore[_name] += in_botocore[0] - before
        setattr(store, name, timed)
    from pynamodb.connection.base import Connection

    returned = [0]
    real_dispatch = Connection.dispatch

    def counting_dispatch(self, operation, kwargs):  # every Query goes through here, whichever way it was built
        answer = real_dispatch(self, operation, kwargs)
        if operation == "Query":
            returned[0] += len(answer.get("Items", ()))
        return answer

    Connection.dispatch = counting_dispatch
    # botocore's own work per request (serialise, sign, send, receive, parse), the same machinery on both sides:
    # what is left of the engine's CPU outside it is pynamodb's and Siyu's.
    from botocore.client import BaseClient

    real_call = BaseClient._make_api_call

    requests = [0]

    floor_returned = [0]

    def timed_call(self, *a, **kw):
        requests[0] += self is engine_client
        started = time.thread_time()
        try:
            answer = real_call(self, *a, **kw)
        finally:
            in_botocore[0] += time.thread_time() - started
        if self is floor.client and a and a[0] == "Query":  # (counted after the CPU taken, as the engine's are)
            floor_returned[0] += len(answer.get("Items", ()))
        return answer

    BaseClient._make_api_call = timed_call
    from infra import db

    engine_client = db.client()
    engine_botocore = floor_botocore = 0.0
    for name in spent:
        spent[name] = spent_botocore[name] = 0.0
    requests[0] = floor_returned[0] = 0
    profiler = cProfile.Profile(time.thread_time) if args.profile else None  # CPU, not waiting
    engine_cpu, floor_cpu = [], []
    for k in range(args.events):
        event = order(members[k % len(members)], k)
        before = in_botocore[0]
        started = time.thread_time()
        if profiler:
            profiler.enable()
        summary = engine.handle(event)
        if profiler:
            profiler.disable()
        engine_cpu.append(time.thread_time() - started)
        engine_botocore += in_botocore[0] - before
        assert summary.status == "applied", summary.reason
        fm, at = floors[k % len(floors)], tick()
        before = in_botocore[0]
        started = time.thread_time()
        floor.order_paid(fm, at)
        floor_cpu.append(time.thread_time() - started)
        floor_botocore += in_botocore[0] - before

    e, f = statistics.mean(engine_cpu), statistics.mean(floor_cpu)
    print(f"order.paid, {args.events} events over {len(members)} members with 10+ past orders ({lots} live lots), "
          f"interleaved with the floor")
    print(f"  engine (pynamodb, plugins, all built-ins)  {e * 1000:6.2f} ms CPU per event "
          f"(median {statistics.median(engine_cpu) * 1000:.2f})")
    print(f"  floor (raw boto3: Query + TransactWriteItems) {f * 1000:6.2f} ms CPU per event "
          f"(median {statistics.median(floor_cpu) * 1000:.2f})")
    ratio = e / f
    n = args.events
    rest = e - (spent["load_member"] + spent["commit_event"]) / n
    print(f"  engine split: member read {spent['load_member'] / n * 1000:.2f} ms ({returned[0] / n:.0f} items per "
          f"Query, the floor's {floor_returned[0] / n:.0f}), transaction {spent['commit_event'] / n * 1000:.2f} ms, "
          f"plugins, planning and the rest {rest * 1000:.2f} ms")
    print(f"  outside botocore's request calls: member read "
          f"{(spent['load_member'] - spent_botocore['load_member']) / n * 1000:.2f} ms, transaction "
          f"{(spent['commit_event'] - spent_botocore['commit_event']) / n * 1000:.2f} ms, the rest "
          f"{(rest - (engine_botocore - spent_botocore['load_member'] - spent_botocore['commit_event']) / n) * 1000:.2f}"
          f" ms; requests per event: engine {requests[0] / n:.1f}, floor 2")
    print(f"  inside botocore's request calls: engine {engine_botocore / n * 1000:.2f} ms, floor "
          f"{floor_botocore / n * 1000:.2f} ms; outside them: engine {(e - engine_botocore / n) * 1000:.2f} ms "
          f"(pynamodb and Siyu), floor {(f - floor_botocore / n) * 1000:.2f} ms")
    print(f"  engine / floor = {ratio:.2f}x (budget {BUDGET}x: {'within' if ratio <= BUDGET else 'OVER'})")
    if profiler:
        print("\nengine, top functions by own thread CPU (cProfile inflates Python-heavy code; compare shares):")
        stats = pstats.Stats(profiler)
        if args.profile_out:
            stats.dump_stats(args.profile_out)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats(40)
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
