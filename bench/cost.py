"""What an operation costs in DynamoDB requests, read and write units, and dollars per million order events.

    .venv/bin/python bench/cost.py [--history 3000] [--mix 96]

Against the embedded DynamoDB (moto, in this process). Every request the engine sends is captured on the botocore
client pynamodb uses, and its units computed from the real item sizes by AWS's rules (bench/capacity.py). Each
operation is set beside a *floor*: the same business change done with raw boto3 requests and the fewest, smallest
items a design needs (bench/floor.py), metered the same way in the same run.

Prices (on-demand list prices, us-east-1, stated here so the figure can be checked and updated):
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# US dollars, us-east-1, on-demand (DynamoDB standard table class, after the November 2024 price change).
PRICES = {
    "dynamodb_read_unit": 0.125 / 1e6,       # per read request unit
    "dynamodb_write_unit": 0.625 / 1e6,      # per write request unit (index writes are write units too)
    "lambda_request": 0.20 / 1e6,            # per invocation
    "lambda_gb_second": 0.0000133334,        # arm64, per GB-second (serverless.yml: arm64, 512 MB)
    "eventbridge_event": 1.00 / 1e6,         # per custom event published (64 KB chunks)
    "logs_gb": 0.50,                         # CloudWatch Logs ingestion, per GB
}
LAMBDA_MEMORY_GB = 0.5
# Assumed, not measured here: in-region DynamoDB round trip per request (the embedded server's own times say
# nothing about AWS), and the platform's START/END/REPORT lines each invocation logs.
DYNAMODB_ROUND_TRIP_MS = 6.0
PLATFORM_LOG_BYTES = 330

__doc__ += "\n".join(f"    {name}: ${value:.10g}" for name, value in PRICES.items())


class LogBytes(logging.Handler):
    """Bytes the events function would send to CloudWatch Logs: every record, formatted as Lambda's runtime does."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.bytes = 0
        self.setFormatter(logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(name)s\t%(message)s\n"))

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(self.format(record).encode())


def dollars_per_million(measure, *, cpu_ms: float, log_bytes: float, published: float) -> dict[str, float]:
    """One order event's cost, times a million: DynamoDB units, the Lambda invocation and its duration (CPU plus
    the assumed round trips), the event itself and its follow-ups on EventBridge, and its log lines."""
    duration_ms = cpu_ms + DYNAMODB_ROUND_TRIP_MS * measure.request_count
    parts = {
        "DynamoDB reads": measure.read_units * PRICES["dynamodb_read_unit"],
        "DynamoDB writes": (measure.write_units + measure.index_write_units) * PRICES["dynamodb_write_unit"],
        "Lambda": PRICES["lambda_request"] + duration_ms / 1000 * LAMBDA_MEMORY_GB * PRICES["lambda_gb_second"],
        "EventBridge": (1 + published) * PRICES["eventbridge_event"],
        "CloudWatch Logs": (log_bytes + PLATFORM_LOG_BYTES) / 1e9 * PRICES["logs_gb"],
    }
    return {k: v * 1e6 for k, v in parts.items()}


class Averaged:
    """The mean of several measures of one operation (units and requests per operation)."""

    def __init__(self, measures) -> None:
        n = len(measures)
        self.request_count = sum(m.request_count for m in measures) / n
        self.read_units = sum(m.read_units for m in measures) / n
        self.write_units = sum(m.write_units for m in measures) / n
        self.index_write_units = sum(m.index_write_units for m in measures) / n
        ops: dict[str, float] = {}
        for m in measures:
            for op, count in m.by_operation.items():
                ops[op] = ops.get(op, 0) + count / n
        self.by_operation = {op: round(c, 2) for op, c in ops.items()}


def row(label, measure, floor) -> str:
    ops = ", ".join(f"{op} {count:g}" for op, count in measure.by_operation.items())
    return (f"  {label:34s} {measure.request_count:6.2f} {measure.read_units:8.1f} {measure.write_units:7.1f} "
            f"{measure.index_write_units:6.1f}   | {floor.request_count:4g} {floor.read_units:6.1f} "
            f"{floor.write_units:6.1f} {floor.index_write_units:5.1f}   {ops}")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--history", type=int, default=3000, help="past orders of the long-standing member")
    parser.add_argument("--mix", type=int, default=96, help="order.paid events in the bench mix")
    parser.add_argument("--sweep", type=int, default=50, help="members whose lots expire on the swept day")
    args = parser.parse_args()

    os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                      SIYU_STAGE="local", TABLE_NAME="siyu-cost", EVENT_BUS_NAME="local", SIYU_PARTNER_PLUGINS="",
                      SIYU_EVENT_MAX_AGE_DAYS="60")
    import boto3

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    server = EmbeddedDynamoDB().start()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
    from infra import db, settings, table

    config = settings.reload()
    looker = boto3.client("dynamodb", endpoint_url=server.endpoint)
    table.create_table(looker, config.table_name)
    db.bind(config)

    from bench.capacity import CapacityMeter
    from bench import floor as floors
    from infra.eventbus import InProcessBus
    from infra.dynamo_store import DynamoStore
    from bench.stack import put_bench_brand
    from bench.history import clone_orders, grow_as_the_orders_did
    from rules import points
    from rules.engine import Engine
    from rules.plugin_manager import registry
    from rules.registration import register_member

    meter = CapacityMeter(db.client(), looker)
    floor_client = boto3.client("dynamodb", endpoint_url=server.endpoint)
    floor_meter = CapacityMeter(floor_client, looker)
    floor = floors.Floor(floor_client, config.table_name)

    store = DynamoStore(brand_cache_seconds=3600)
    plugins = registry()
    put_bench_brand(store, plugins)
    bus = InProcessBus()
    engine = Engine(store, plugins, bus)
    # Events carry real recent times (the engine refuses stale ones): the history fills 40 days ending 9 days ago,
    # the measured operations come after it, a few minutes apart.
    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(days=50)
    clock = [start]
    step = [timedelta(days=40) / (48 * 13 + args.history * 1.3)]

    def tick() -> datetime:
        clock[0] += step[0]
        return clock[0]

    def event(detail_type, detail, at=None):
        return {"version": "0", "id": f"bench-{uuid.uuid4()}", "detail-type": detail_type, "source": "siyu.shop",
                "time": (at or tick()).isoformat(), "detail": {"brandId": "bench", **detail}}

    def order(member, amount=12900, order_id=None):
        return event("order.paid", {"memberId": member, "orderId": order_id or f"o-{uuid.uuid4().hex[:10]}",
                                    "amountFen": amount, "channel": "miniprogram"})

    def new_member(n: int) -> str:
        return register_member(store, brand_id="bench", phone_number=f"139{n:08d}", channel="miniprogram",
                               now=clock[0], phone_key="bench").member_id

    def live_history(member: str, orders: int) -> list[str]:
        """`orders` past orders, a redemption of most of the balance after every tenth (so lots empty, as they
        do), a check-in every fifth: the partition a long-standing member really has."""
        order_ids = []
        for k in range(orders):
            if k and k % 500 == 0:
                print(f"  ... {k} past orders", file=sys.stderr, flush=True)
            order_ids.append(f"h-{member[-6:]}-{k}")
            engine.handle(order(member, 9900 + 100 * (k % 7), order_ids[-1]))
            if k % 5 == 4:
                engine.handle(event("member.checked_in", {"memberId": member}))
            if k % 10 == 9:
                balance = store.load_member("bench", member).points.balance
                if balance > 100:
                    points.redeem(store, "bench", member, points=balance - 50, now=tick(),
                                  idempotency_key=f"r-{member}-{k}")
        return order_ids

    started = time.perf_counter()
    mix_members = [new_member(i) for i in range(48)]
    for member in mix_members:
        live_history(member, 10)
    veteran = new_member(1000)
    veteran_orders = live_history(veteran, min(args.history, 10))
    if args.history > 10:
        # The rest of the long history written directly, as the engine would have left it (bench/history.py).
        veteran_orders += [f"h-{veteran[-6:]}-{k}" for k in range(10, args.history)]
        clone_orders(looker, config.table_name, "bench", veteran, template_order=veteran_orders[9],
                     order_ids=veteran_orders[10:], before=start)
        # ... with the growth and tier those orders earned (not only the first ten's).
        grow_as_the_orders_did(store, "bench", veteran, template_order=veteran_orders[9],
                               orders=len(veteran_orders) - 10, at=start)
    fresh = mix_members[0]
    print(f"(seeded 48 members with 10 past orders and one with {args.history} in "
          f"{time.perf_counter() - started:.0f} s)\n", file=sys.stderr)
    store.get_brand("bench")
    clock[0], step[0] = start + timedelta(days=41), timedelta(minutes=7)

    def measured(run):
        with meter.measure() as m:
            run()
        return m

    def floored(run):
        with floor_meter.measure() as m:
            run()
        return m

    rows = []
    for label, member, orders in (("10 past orders", fresh, 10), (f"{args.history} past orders", veteran,
                                                                  args.history)):
        fm = floor.member(live_lots=len(store.load_member("bench", member).points.lots))
        # What `me` / `member(id)` read (api/request.py): the page read, eventually consistent.
        rows.append((f"member page, {label}", measured(lambda: store.load_member("bench", member, page=True,
                                                                                 as_of=clock[0])),
                     floored(lambda: floor.member_page(fm))))
        rows.append((f"order.paid, {label}", measured(lambda: engine.handle(order(member, 25900))),
                     floored(lambda: floor.order_paid(fm, tick()))))
        rows.append((f"redeem points, {label}", measured(lambda: points.redeem(
            store, "bench", member, points=100, now=tick(), idempotency_key=uuid.uuid4().hex)),
            floored(lambda: floor.redeem(fm, tick()))))
        clock[0] += timedelta(days=1)  # a new day: the check-in counts
        rows.append((f"member.checked_in, {label}", measured(lambda: engine.handle(event(
            "member.checked_in", {"memberId": member}))), floored(lambda: floor.check_in(fm, tick()))))
        refund_of = f"h-{member[-6:]}-{orders - 1}"
        rows.append((f"order.refunded, {label}", measured(lambda: engine.handle(event(
            "order.refunded", {"memberId": member, "orderId": refund_of, "amountFen": 5000}))),
            floored(lambda: floor.refund(fm, tick()))))

    # The daily sweep: members whose only lot expires on the swept day; per member, the day's total / members.
    sweep_day = clock[0] + timedelta(days=2)
    swept = [new_member(5000 + i) for i in range(args.sweep)]
    for member in swept:
        points.earn(store, "bench", member, points=300, now=clock[0], expires_at=sweep_day - timedelta(hours=1),
                    idempotency_key=f"e-{member}")
    from tests.helpers import scheduled_event

    engine.handle(scheduled_event(sweep_day - timedelta(days=1)))  # yesterday's run: today's is one day's work
    sweep = measured(lambda: engine.handle(scheduled_event(sweep_day + timedelta(hours=1))))
    fms = [floor.member(live_lots=1, expiring=sweep_day - timedelta(hours=1)) for _ in swept]
    sweep_floor = floored(lambda: floor.sweep(fms, sweep_day + timedelta(hours=1)))
    per_member, per_member_floor = _per(sweep, len(swept)), _per(sweep_floor, len(swept))
    rows.append(("daily sweep, per member expiring", per_member, per_member_floor))

    print("DynamoDB per operation: requests, read units, write units, index write units (engine | floor)")
    print(f"  {'operation':34s} {'req':>6s} {'read':>8s} {'write':>7s} {'index':>6s}   | {'req':>4s} {'read':>6s} "
          f"{'write':>6s} {'index':>5s}   requests by operation")
    for label, m, f in rows:
        print(row(label, m, f))
    for what, few, many in (("member page", rows[0][1], rows[5][1]), ("order.paid", rows[1][1], rows[6][1])):
        print(f"\n{what}: {many.read_units:g} read units at {args.history} past orders, {few.read_units:g} at 10 "
              f"({many.read_units / few.read_units:.2f}x; issue 15 asks at most 1.5x)", end="")
    print()
    page = rows[5][1]
    print(f"\n{rows[6][0]}: bytes read by item kind: "
          + ", ".join(f"{kind} {size}" for kind, size in rows[6][1].bytes_read.most_common()))
    print(f"\n{rows[5][0]}: bytes read by item kind: "
          + ", ".join(f"{kind} {size}" for kind, size in page.bytes_read.most_common()))
    paid = rows[1][1]
    print(f"\n{rows[1][0]}: bytes written by item kind (sort key prefix): "
          + ", ".join(f"{kind} {size}" for kind, size in paid.bytes_written.most_common()))

    # $ per million order events: the bench mix (48 members with about 10 past orders, round robin) and the
    # long-standing member, each one order.paid at a time, with its CPU, log bytes and follow-ups.
    logs = LogBytes()
    logging.getLogger().addHandler(logs)
    logging.getLogger().setLevel(logging.INFO)

    def cost_of(members, count):
        measures, cpu, log_bytes, published = [], 0.0, 0, 0
        for i in range(count):
            e = order(members[i % len(members)], 9900 + 1700 * (i % 9))
            before_logs, before_bus = logs.bytes, len(bus.published)
            # This thread's CPU only (the embedded server answers on its own threads), less the meter's look-ups.
            cpu_started, overhead = time.thread_time(), meter.overhead
            with meter.measure() as m:
                engine.handle(e)
            cpu += time.thread_time() - cpu_started - (meter.overhead - overhead)
            log_bytes += logs.bytes - before_logs
            published += len(bus.published) - before_bus
            measures.append(m)
        mean = Averaged(measures)
        return mean, dollars_per_million(mean, cpu_ms=cpu * 1000 / count, log_bytes=log_bytes / count,
                                         published=published / count), cpu * 1000 / count

    def floor_cost(count, live_lots):
        measures, cpu = [], 0.0
        for _ in range(count):
            fm = floor.member(live_lots=live_lots)
            cpu_started, overhead = time.thread_time(), floor_meter.overhead
            with floor_meter.measure() as m:
                floor.order_paid(fm, tick())
            cpu += time.thread_time() - cpu_started - (floor_meter.overhead - overhead)
            measures.append(m)
        mean = Averaged(measures)
        return mean, dollars_per_million(mean, cpu_ms=cpu * 1000 / count, log_bytes=0, published=0), cpu * 1000 / count

    print("\n$ per million order.paid events (DynamoDB + Lambda + EventBridge + CloudWatch Logs)")
    for label, (mean, dollars, cpu_ms) in (
            ("bench mix (48 members, ~10 past orders)", cost_of(mix_members, args.mix)),
            (f"a member with {args.history} past orders", cost_of([veteran], max(8, args.mix // 8))),
            ("floor (raw boto3, fewest smallest items)", floor_cost(max(8, args.mix // 4), 3))):
        parts = ", ".join(f"{k} {v:.2f}" for k, v in dollars.items())
        print(f"  {label:44s} ${sum(dollars.values()):6.2f}   read {mean.read_units:.1f} write "
              f"{mean.write_units + mean.index_write_units:.1f} units, client CPU {cpu_ms:.1f} ms per event   "
              f"({parts})")
    print(f"\nPrices: {', '.join(f'{k} ${v:.10g}' for k, v in PRICES.items())}; Lambda {LAMBDA_MEMORY_GB * 1024:.0f} MB "
          f"arm64; assumed {DYNAMODB_ROUND_TRIP_MS:g} ms per DynamoDB round trip and {PLATFORM_LOG_BYTES} bytes of "
          f"platform log lines per invocation.")
    meter.close()
    floor_meter.close()
    server.stop()
    return 0


def _per(measure, n):
    from bench.capacity import Measure, Request

    per = Measure()
    per.requests = [Request(r.operation, r.read_units / n, r.write_units / n, r.index_write_units / n)
                    for r in measure.requests]

    class PerMember:
        request_count = len(measure.requests) / n
        read_units = per.read_units
        write_units = per.write_units
        index_write_units = per.index_write_units
        by_operation = {op: round(c / n, 2) for op, c in measure.by_operation.items()}

    return PerMember()


if __name__ == "__main__":
    sys.exit(main())
