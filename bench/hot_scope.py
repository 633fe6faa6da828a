"""Feedback of one scope from 1, 4 and 16 concurrent workers: throughput, attempts and whether any event gave up.

Every `feedback.received` of one channel used to condition on one scope version item, so concurrent workers
mostly re-read and retried (1 worker 14.4 events/s, 4 workers 4.4, 16 workers 1.7 with events giving up). Counts are
now sharded per hour (plugins/crisis/model.py): this prints events/s per worker count against the single worker
measured in the same run, the engine's attempts per event, and checks that the counts are exact and no event ended
Busy. Runs against the embedded DynamoDB (moto behind a real HTTP server), so absolute rates are moto's.

    .venv/bin/python bench/hot_scope.py --events 120
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=120, help="feedback events per worker count")
    parser.add_argument("--workers", default="1,4,16")
    args = parser.parse_args()
    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      SIYU_STAGE="local", TABLE_NAME="siyu-hot", EVENT_BUS_NAME="local", SIYU_PARTNER_PLUGINS="")

    from bench.stack import embedded_table

    server, config = embedded_table()

    from infra.dynamo_store import DynamoStore
    from infra.eventbus import InProcessBus
    from rules import engine as engines
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.errors import Busy
    from rules.plugin_manager import registry

    store = DynamoStore(brand_cache_seconds=3600)
    plugins = registry()
    bus = InProcessBus()
    engine = engines.Engine(store, plugins, bus)
    attempts = Counter()
    real_attempt = engines.Engine._attempt

    def counted(self, event, *rest):
        attempts[event.event_id] += 1
        return real_attempt(self, event, *rest)

    engines.Engine._attempt = counted
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=1)

    def run(workers: int) -> tuple[float, Counter, int, float]:
        brand = f"hot{workers}-{uuid.uuid4().hex[:6]}"
        store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER,
                                    plugins={"crisis": plugins.validate_params("crisis", {})}))
        store.get_brand(brand)
        events = [{"version": "0", "id": f"{brand}-{i}", "detail-type": "feedback.received", "source": "siyu.care",
                   "time": (start + timedelta(seconds=20 * i)).isoformat(),
                   "detail": {"brandId": brand, "feedbackId": f"f{i}", "channel": "douyin", "kind": "review",
                              "rating": 1 if i % 3 else 4, "topic": "quality"}} for i in range(args.events)]

        def deliver(event):
            try:
                return engine.handle(event).status
            except Busy:
                return "busy"

        began = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            statuses = Counter(pool.map(deliver, events))
        elapsed = time.perf_counter() - began
        counts = store.feedback_counts(brand, "channel:douyin", hours=24)
        counted_total = sum(t for _, t in counts.hours.values())
        mine = [attempts[e["id"]] for e in events]
        return args.events / elapsed, statuses, counted_total, sum(mine) / len(mine)

    rows, ok = [], True
    for workers in (int(w) for w in args.workers.split(",")):
        rate, statuses, counted_total, per_event = run(workers)
        rows.append((workers, rate))
        ok &= statuses == {"applied": args.events} and counted_total == args.events
        print(f"  {workers:2d} workers: {rate:6.1f} feedback events/s = {rate / rows[0][1]:4.2f}x one worker; "
              f"{per_event:.2f} attempts per event; outcomes {dict(statuses)}; counted {counted_total} of "
              f"{args.events}", flush=True)
    print(f"\none scope, {args.events} events per run; every event applied and counted exactly once: "
          f"{'yes' if ok else 'NO'}")
    server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
