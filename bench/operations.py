"""DynamoDB requests per operation against the minimum, and engine time against bare storage time.

    python bench/operations.py [--events 300]

Runs against the embedded moto DynamoDB (no network), so absolute times say little; the ratios are the point:
both sides of each ratio are measured in the same run, on the same table and machine.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                  SIYU_STAGE="local", TABLE_NAME="siyu-bench", EVENT_BUS_NAME="local", SIYU_PARTNER_PLUGINS="",
                  SIYU_EVENT_MAX_AGE_DAYS="3650")  # its events are dated 2026-03-01: a replay, not live traffic


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300)
    args = parser.parse_args()

    import boto3

    from infra.embedded_dynamodb import EmbeddedDynamoDB

    server = EmbeddedDynamoDB().start()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
    from infra import db, settings, table

    config = settings.reload()
    raw = boto3.client("dynamodb", endpoint_url=server.endpoint)
    table.create_table(raw, config.table_name)
    db.bind(config)

    from infra.db import count_requests
    from infra.eventbus import InProcessBus
    from infra.dynamo_store import DynamoStore
    from rules import points
    from rules.engine import Engine
    from rules.plugin_manager import registry
    from rules.registration import register_member

    store = DynamoStore(brand_cache_seconds=3600)
    plugins = registry()
    from bench.stack import put_bench_brand

    put_bench_brand(store, plugins)
    now = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
    # Received as they happen (the receiving clock an hour after the first event, as in production), so nothing an
    # order writes has fallen due by then and the sweep watermark is not read; the late order below shows when it is.
    engine = Engine(store, plugins, InProcessBus(), clock=lambda: now + timedelta(hours=1))
    members = [register_member(store, brand_id="bench", phone_number=f"139{i:08d}", channel="miniprogram", now=now,
                               phone_key="bench").member_id for i in range(50)]
    store.get_brand("bench")

    rows = []

    def requests_of(label, floor, run):
        with count_requests() as counter:
            run()
        rows.append((label, counter.total, floor, dict(counter.by_operation)))

    member = members[0]
    for k in range(3):
        points.earn(store, "bench", member, points=1000, now=now, expires_at=now + timedelta(days=30 * (k + 1)),
                    idempotency_key=f"seed-{k}")
    requests_of("register a member", 1, lambda: register_member(
        store, brand_id="bench", phone_number="13700000001", channel="h5", now=now, phone_key="bench"))
    requests_of("member page (balance, lots, tier)", 1, lambda: store.load_member("bench", member))
    requests_of("redeem points", 2, lambda: points.redeem(store, "bench", member, points=1500, now=now,
                                                          idempotency_key="bench-redeem"))
    requests_of("redeem again, same key", 1, lambda: points.redeem(store, "bench", member, points=1500, now=now,
                                                                   idempotency_key="bench-redeem"))

    def order(m, i, amount=12900):
        return {"version": "0", "id": f"bench-{uuid.uuid4()}", "detail-type": "order.paid", "source": "siyu.shop",
                "time": (now + timedelta(seconds=i)).isoformat(), "detail": {
                    "brandId": "bench", "memberId": m, "orderId": f"o-{uuid.uuid4().hex[:10]}",
                    "amountFen": amount, "channel": "miniprogram"}}

    requests_of("order.paid, all built-ins", 2, lambda: engine.handle(order(members[1], 0, 260000)))
    # 200 days late: the gold validity it gives (6 months from the order) has ended by the receiving clock, so the
    # change is dated no earlier than the brand's sweep watermark, which it reads (Engine._due_floor).
    requests_of("order.paid 200 days late (validity over)", 2,
                lambda: engine.handle(order(members[49], -200 * 86400, 260000)))

    from plugins.coupons import model as coupons

    brand = store.get_brand("bench")
    requests_of("coupon offers (member + brand counters)", 2,
                lambda: coupons.offers(store, brand, members[1], now))
    requests_of("claim a coupon", 2, lambda: coupons.claim(store, brand, members[1], "bgy-100-20", now,
                                                           request_id="bench"))
    invitee = register_member(store, brand_id="bench", phone_number="13600000001", channel="h5", now=now,
                              phone_key="bench").member_id
    code = store.load_member("bench", members[1]).profile.referral_code
    bind = {"version": "0", "id": "bench-bind", "detail-type": "member.registered", "source": "siyu.shop",
            "time": now.isoformat(), "detail": {"brandId": "bench", "memberId": invitee, "channel": "h5",
                                                "referralCode": code}}
    # The code's owner (GetItem), the owner and the invitee's fingerprints (BatchGetItem): what a binding must see.
    requests_of("member.registered with a referral code", 4, lambda: engine.handle(bind))
    # The KOL ladder grades on the inviter's tags and their invitees' sales this month: one more read, by design.
    requests_of("order.paid by an invitee (KOL ladder)", 3, lambda: engine.handle(order(invitee, 1, 50000)))

    feedback = {"version": "0", "id": "bench-feedback", "detail-type": "feedback.received", "source": "siyu.care",
                "time": now.isoformat(), "detail": {"brandId": "bench", "feedbackId": "f-1", "channel": "douyin",
                                                    "kind": "complaint", "topic": "quality", "rating": 1}}
    # Crisis grades the scopes its thresholds name (preset: the channel and the topic): each one's recent hours must
    # be read, plus the brand's open alerts, plus the one write.
    requests_of("feedback.received (crisis)", 4, lambda: engine.handle(feedback))

    print("DynamoDB requests per operation (floor: the fewest any design needs)")
    for label, total, floor, by_op in rows:
        print(f"  {label:40s} {total} requests = {total / floor:.1f}x floor ({floor})   {by_op}")

    # Engine time vs bare storage time: the wall time of each order.paid, against the time spent inside its own
    # DynamoDB calls (from botocore's before-call to after-call hooks), both from the same events in this run.
    from infra.db import client

    in_storage = [0.0]
    started_call: list[float] = []
    events_hub = client().meta.events
    events_hub.register("before-call.dynamodb", lambda **kw: started_call.append(time.perf_counter()),
                        unique_id="bench-before")
    events_hub.register("after-call.dynamodb",
                        lambda **kw: in_storage.__setitem__(0, in_storage[0] + time.perf_counter() - started_call.pop()),
                        unique_id="bench-after")
    events = [order(members[2 + i % 48], i) for i in range(args.events)]
    started = time.perf_counter()
    for event in events:
        engine.handle(event)
    total_ms = (time.perf_counter() - started) * 1000 / len(events)
    storage_ms = in_storage[0] * 1000 / len(events)
    print(f"\norder.paid through the engine: {total_ms:.2f} ms per event = {total_ms / storage_ms:.2f}x the time "
          f"spent in its own DynamoDB requests ({storage_ms:.2f} ms), {args.events} events, 48 members")
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
