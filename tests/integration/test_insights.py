"""Brand KPIs, counted off the event path from the table's change stream, equal a plain recount of the same events.

- A generated month (200 members, 5,000 events of every kind the KPIs count) becomes the table changes Siyu makes
  for them (the items' own pynamodb serialisation, as the stream carries them), delivered the way DynamoDB Streams
  delivers: in order per item, interleaved across shards, batches handed twice. The stream Lambda's counts, read
  back with `insights(from:, to:)`, equal counting the events by hand, day by day in the brand's time zone.
- Real events through the engine reach the same counters through the embedded table's real stream (the DynamoDB
  Streams API, as the local stack reads it).
- An order's own path costs exactly the requests it cost before the KPIs existed.
"""

from __future__ import annotations

import random
import uuid
import zlib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import boto3

from events import stream as stream_lambda
from infra import keys, runtime, stream
from infra.db import count_requests
from infra.models import EntryItem, MemberItem, ProcessedItem
from plugins.coupons.storage import CouponItem
from plugins.crisis.storage import AlertItem
from plugins.referral.storage import ReferredItem
from rules import points
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from tests.helpers import business_event, call_graphql, order_paid, register, token

SEED = 19
MEMBERS = 200
EVENTS = 5000
ZONE = ZoneInfo("Asia/Shanghai")
TIERS = ("PU", "YIN", "JIN", "ZUAN")
FIELDS = ("newMembers", "activeMembers", "orders", "gmvFen", "refunds", "refundFen", "firstOrders",
          "repurchasedWithin30Days", "repurchasedWithin90Days", "pointsIssued", "pointsRedeemed", "pointsExpired",
          "couponsClaimed", "couponsUsed", "referralConversions", "alerts")


def local(at: datetime) -> date:
    return at.astimezone(ZONE).date()


def insights(brand: str, start: date, end: date) -> dict[date, dict]:
    query = """query ($from: Date!, $to: Date!) { insights(from: $from, to: $to) {
        date newMembers activeMembers orders gmvFen refunds refundFen netGmvFen aovFen firstOrders
        repurchasedWithin30Days repurchasedWithin90Days repurchaseRate30 pointsIssued pointsRedeemed pointsExpired
        pointsRedemptionRate couponsClaimed couponsUsed couponRedemptionRate referralConversions alerts
        distributions { name buckets { value members } } } }"""
    _, body = call_graphql(query, {"from": start.isoformat(), "to": end.isoformat()},
                           token=token("staff", "analyst", brand))
    assert "errors" not in body, body
    return {date.fromisoformat(day["date"]): day for day in body["data"]["insights"]}


class Month:
    """A generated month of one brand: the events, and the table changes they make, in the order they happen."""

    def __init__(self, brand: str, start: datetime, rng: random.Random) -> None:
        self.brand, self.rng = brand, rng
        self.changes: list[tuple[object | None, object, datetime]] = []  # (old item, new item, when)
        self.days: dict[date, Counter] = defaultdict(Counter)  # the plain recount, by brand-local day
        self.active: dict[date, set] = defaultdict(set)
        self.orders_of: dict[str, list[datetime]] = defaultdict(list)
        self.tiers: dict[str, str] = {}
        self.tier_days: dict[date, Counter] = defaultdict(Counter)
        self.coupons: dict[str, list[CouponItem]] = defaultdict(list)
        self.paid: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.members: list[str] = []
        span = timedelta(days=30).total_seconds()
        for n in range(MEMBERS):
            self.register(start + timedelta(seconds=span * n / MEMBERS / 2))
        times = sorted(start + timedelta(seconds=rng.uniform(span / 2, span)) for _ in range(EVENTS - MEMBERS))
        kinds = (["order"] * 55 + ["refund"] * 8 + ["redeem"] * 6 + ["expire"] * 2 + ["claim"] * 10 + ["use"] * 6
                 + ["referral"] * 5 + ["alert"] * 2 + ["tier"] * 6)
        for at in times:
            getattr(self, rng.choice(kinds))(rng.choice(self.members), at)

    def count(self, at: datetime, field: str, delta: int = 1) -> None:
        self.days[local(at)][field] += delta

    def register(self, at: datetime) -> None:
        member = f"m{len(self.members):03d}"
        self.members.append(member)
        self.tiers[member] = "PU"
        self.changes.append((None, MemberItem(keys.member_pk(self.brand, member), keys.PROFILE, brand_id=self.brand,
                                              member_id=member, channel="miniprogram", registered_at=at,
                                              tier_code="PU"), at))
        self.count(at, "newMembers")
        self.tier_days[local(at)]["PU"] += 1

    def processed(self, detail_type: str, member: str, at: datetime, amount: int) -> None:
        event_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
        self.changes.append((None, ProcessedItem(keys.event_pk(self.brand, event_id), keys.PROCESSED,
                                                 event_id=event_id, brand_id=self.brand, detail_type=detail_type,
                                                 at=at, follow_ups=[], subject_id=member, amount_fen=amount), at))

    def entry(self, member: str, at: datetime, kind: str, amount: int) -> None:
        entry_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
        self.changes.append((None, EntryItem(keys.ledger_pk(self.brand, member), keys.entry_sk(entry_id),
                                             entry_id=entry_id, at=at, entry_kind=kind, points=amount,
                                             allocations=[]), at))

    def order(self, member: str, at: datetime) -> None:
        amount = self.rng.randint(500, 60000)
        self.paid[member].append((uuid.uuid4().hex, amount))
        self.processed("order.paid", member, at, amount)
        self.entry(member, at, "earn", amount // 100)
        self.count(at, "orders")
        self.count(at, "gmvFen", amount)
        self.count(at, "pointsIssued", amount // 100)
        self.active[local(at)].add(member)
        self.orders_of[member].append(at)

    def refund(self, member: str, at: datetime) -> None:
        if not self.paid[member]:
            return self.order(member, at)
        _, amount = self.paid[member].pop(self.rng.randrange(len(self.paid[member])))
        refunded = self.rng.randint(1, amount)
        self.processed("order.refunded", member, at, refunded)
        self.entry(member, at, "take_back", -(refunded // 100))  # taken back: not a redemption
        self.count(at, "refunds")
        self.count(at, "refundFen", refunded)

    def redeem(self, member: str, at: datetime) -> None:
        spent = self.rng.randint(1, 50)
        self.entry(member, at, "redeem", -spent)
        self.count(at, "pointsRedeemed", spent)

    def expire(self, member: str, at: datetime) -> None:
        lapsed = self.rng.randint(1, 30)
        self.entry(member, at, "expire", -lapsed)
        self.count(at, "pointsExpired", lapsed)

    def claim(self, member: str, at: datetime) -> None:
        coupon_id = uuid.UUID(int=self.rng.getrandbits(128)).hex[:16]
        item = CouponItem(keys.member_pk(self.brand, member), keys.COUPON_PREFIX + coupon_id, coupon_id=coupon_id,
                          template_id="t1", name="满50减10", coupon_kind="amount_off", issued_at=at, valid_from=at,
                          valid_until=at + timedelta(days=60), source="claim", reason="claimed", status="available")
        self.coupons[member].append(item)
        self.changes.append((None, item, at))
        self.count(at, "couponsClaimed")

    def use(self, member: str, at: datetime) -> None:
        if not self.coupons[member]:
            return self.claim(member, at)
        old = self.coupons[member].pop(0)
        new = CouponItem(old.pk, old.sk, **{**old.attribute_values, "status": "used", "used_at": at,
                                           "order_id": "o" + old.coupon_id})
        self.changes.append((old, new, at))
        self.count(at, "couponsUsed")

    def referral(self, member: str, at: datetime) -> None:
        invitee = uuid.UUID(int=self.rng.getrandbits(128)).hex[:12]
        self.changes.append((None, ReferredItem(keys.member_pk(self.brand, member), "REFERRED#" + invitee,
                                                invitee_id=invitee, bound_at=at), at))
        self.count(at, "referralConversions")

    def alert(self, _member: str, at: datetime) -> None:
        alert_id = uuid.UUID(int=self.rng.getrandbits(128)).hex
        self.changes.append((None, AlertItem(keys.brand_pk(self.brand), keys.alert_sk(alert_id), alert_id=alert_id,
                                             brand_id=self.brand, metric="negative-posts", measure="negativeCount",
                                             scope="channel:douyin", level="red", status="open", value=51,
                                             threshold=50, opened_at=at, raised_at=at, respond_by=at), at))
        self.count(at, "alerts")

    def tier(self, member: str, at: datetime) -> None:
        before = self.tiers[member]
        after = self.rng.choice([t for t in TIERS if t != before])
        self.tiers[member] = after
        old = MemberItem(keys.member_pk(self.brand, member), keys.PROFILE, brand_id=self.brand, member_id=member,
                         channel="miniprogram", registered_at=at, tier_code=before)
        new = MemberItem(old.pk, old.sk, **{**old.attribute_values, "tier_code": after})
        self.changes.append((old, new, at))
        self.tier_days[local(at)][before] -= 1
        self.tier_days[local(at)][after] += 1

    def recount(self) -> dict[date, Counter]:
        days = defaultdict(Counter, {day: Counter(c) for day, c in self.days.items()})
        for day, who in self.active.items():
            days[day]["activeMembers"] = len(who)
        for times in self.orders_of.values():
            first, *rest = sorted(times)
            days[local(first)]["firstOrders"] += 1
            for field, window in (("repurchasedWithin30Days", 30), ("repurchasedWithin90Days", 90)):
                if rest and rest[0] - first <= timedelta(days=window):
                    days[local(first)][field] += 1
        return days

    def tiers_at_end_of(self, day: date) -> dict[str, int]:
        running = Counter()
        for d in sorted(self.tier_days):
            if d <= day:
                running.update(self.tier_days[d])
        return {tier: n for tier, n in running.items() if n}

    def records(self) -> list[dict]:
        """The changes as stream records, as Lambda hands them."""
        out = []
        for seq, (old, new, at) in enumerate(self.changes, start=1):
            body = {"ApproximateCreationDateTime": at.timestamp(), "SequenceNumber": f"{seq:021d}",
                    "Keys": {"pk": {"S": new.pk}, "sk": {"S": new.sk}}, "NewImage": new.serialize(),
                    "StreamViewType": "NEW_AND_OLD_IMAGES"}
            if old is not None:
                body["OldImage"] = old.serialize()
            out.append({"eventID": uuid.UUID(int=self.rng.getrandbits(128)).hex,
                        "eventName": "INSERT" if old is None else "MODIFY", "dynamodb": body})
        return out


def delivered(records: list[dict], rng: random.Random, shards: int = 4, size: int = 100) -> list[list[dict]]:
    """Batches as DynamoDB Streams hands them: each item's changes in order (its key's shard), shards interleaved."""
    lanes: list[list[dict]] = [[] for _ in range(shards)]
    for record in records:
        keys_ = record["dynamodb"]["Keys"]
        lanes[zlib.crc32((keys_["pk"]["S"] + keys_["sk"]["S"]).encode()) % shards].append(record)
    batches = [lane[i:i + size] for lane in lanes for i in range(0, len(lane), size)]
    order: list[list[dict]] = []
    cursors = [0] * shards
    per_lane = [[lane[i:i + size] for i in range(0, len(lane), size)] for lane in lanes]
    while any(cursors[s] < len(per_lane[s]) for s in range(shards)):
        s = rng.choice([s for s in range(shards) if cursors[s] < len(per_lane[s])])
        order.append(per_lane[s][cursors[s]])
        cursors[s] += 1
    assert sum(map(len, order)) == sum(map(len, batches)) == len(records)
    return order


def test_a_generated_month_of_kpis_equals_a_plain_recount_however_the_stream_delivers_it(store):
    rng = random.Random(SEED)
    brand = f"k{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    start = datetime(2026, 3, 1, 16, 0, tzinfo=timezone.utc)  # brand-local midnight, 2 March
    month = Month(brand, start, rng)
    assert len(month.changes) >= EVENTS - 200  # a refund or use with nothing to take back becomes an order/claim
    for batch in delivered(month.records(), rng):
        assert stream_lambda.handler({"Records": batch}) == {"batchItemFailures": []}
        if rng.random() < 0.15:  # handed again (the function timed out after writing): nothing counts twice
            assert stream_lambda.handler({"Records": batch}) == {"batchItemFailures": []}

    first, last = local(start), local(start + timedelta(days=31))
    shown = insights(brand, first, last)
    expected = month.recount()
    assert sorted(shown) == [first + timedelta(days=n) for n in range((last - first).days + 1)]
    for day, figures in shown.items():
        assert {f: figures[f] for f in FIELDS} == {f: expected[day][f] for f in FIELDS}, day
        assert figures["netGmvFen"] == expected[day]["gmvFen"] - expected[day]["refundFen"]
        assert figures["aovFen"] == (expected[day]["gmvFen"] // expected[day]["orders"]
                                     if expected[day]["orders"] else None)
        tiers = {b["value"]: b["members"] for d in figures["distributions"] if d["name"] == "tiers"
                 for b in d["buckets"]}
        assert tiers == month.tiers_at_end_of(day), day
    totals = Counter()
    for figures in shown.values():
        totals.update({f: figures[f] for f in FIELDS})
    assert totals["orders"] > 2500 and totals["couponsUsed"] > 100 and totals["repurchasedWithin30Days"] > 100
    assert totals["newMembers"] == MEMBERS and sum(month.tiers_at_end_of(last).values()) == MEMBERS


def test_the_engines_own_changes_reach_the_kpis_through_the_tables_stream(fresh_table, dynamodb_endpoint, store,
                                                                        plugins):
    """Real events, the real stream (DynamoDB Streams API on the embedded table), the local stack's reader."""
    brand = f"e{uuid.uuid4().hex[:8]}"
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers", "points_expiry")}
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    engine = Engine(store, plugins, runtime.bus())
    # Recent days: tier moves are dated when the table changed (now), and the range read must reach today.
    day = datetime.now(timezone.utc).replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=25)
    alice, bob = (register(store, brand, day) for _ in range(2))
    send = lambda kind, detail, at: engine.handle(business_event(kind, detail, time=at,  # noqa: E731
                                                                 source=f"siyu.brand.{brand}"))
    assert send("order.paid", order_paid(brand, alice, 12000, "o1"), day).status == "applied"
    send("order.paid", order_paid(brand, alice, 3000, "o2"), day + timedelta(hours=2))
    send("order.paid", order_paid(brand, bob, 250000, "o3"), day + timedelta(hours=3))  # bob reaches a new tier
    send("order.refunded", {"brandId": brand, "memberId": alice, "orderId": "o1", "amountFen": 2000},
         day + timedelta(hours=4))
    send("order.paid", order_paid(brand, bob, 5000, "o4"), day + timedelta(days=20))
    redeemed = points.redeem(store, brand, alice, points=10, now=day + timedelta(hours=5), idempotency_key="r1")
    assert redeemed is not None

    streams = boto3.client("dynamodbstreams", endpoint_url=dynamodb_endpoint)
    positions: dict[str, str] = {}
    assert stream.poll(streams, fresh_table, positions, store) > 0
    assert stream.poll(streams, fresh_table, positions, store) == 0  # read up to where it got
    positions.clear()
    stream.poll(streams, fresh_table, positions, store)  # everything again: counted once all the same

    shown = insights(brand, local(day), local(day + timedelta(days=20)))
    first, later = shown[local(day)], shown[local(day + timedelta(days=20))]
    issued = sum(e.points for m in (alice, bob) for e in store.entries(brand, m)
                 if e.kind.value == "earn" and local(e.at) == local(day))
    assert (first["newMembers"], first["orders"], first["activeMembers"], first["gmvFen"]) == (2, 3, 2, 265000)
    assert (first["refunds"], first["refundFen"], first["netGmvFen"]) == (1, 2000, 263000)
    assert (first["firstOrders"], first["repurchasedWithin30Days"], first["repurchasedWithin90Days"]) == (2, 2, 2)
    assert (first["pointsIssued"], first["pointsRedeemed"]) == (issued, 10) and issued > 0
    assert (later["orders"], later["activeMembers"], later["firstOrders"]) == (1, 1, 0)
    tiers = {m: store.load_member(brand, m, as_of=day + timedelta(days=21)).profile.tier_code for m in (alice, bob)}
    assert tiers[bob] != tiers[alice]  # bob moved up: the distribution follows
    (distribution,) = insights(brand, local(datetime.now(timezone.utc)), local(datetime.now(timezone.utc))
                               ).popitem()[1]["distributions"]
    assert {b["value"]: b["members"] for b in distribution["buckets"]} == dict(Counter(tiers.values()))


def test_an_order_costs_the_same_requests_with_the_kpis_as_without_them(store, rules_brand, plugins):
    """The KPIs are counted from the stream, after the fact: the order's own path reads and writes nothing more."""
    from plugins import FAMILIES
    from rules import family

    engine = Engine(store, plugins, runtime.bus())
    member = register(store, rules_brand, datetime(2026, 3, 1, tzinfo=timezone.utc))
    engine.handle(business_event("member.checked_in", {"brandId": rules_brand, "memberId": member}))  # warm caches
    costs = {}
    try:
        for label, modules in (("without", [m for m in FAMILIES if m != "plugins.insights"]), ("with", FAMILIES)):
            family.use(family.load(modules))
            with count_requests() as requests:
                summary = engine.handle(business_event("order.paid", order_paid(rules_brand, member, 1000),
                                                       time=datetime(2026, 3, 2, tzinfo=timezone.utc)))
            assert summary.status == "applied"
            costs[label] = dict(requests.by_operation)
    finally:
        family.use(None)
    # (Small orders, so neither crosses a tier line: an upgrade would read the coupon templates for its gift.)
    # The member's state (a new order's markers are not read: README, "Benchmarks"), one transaction.
    assert costs["with"] == costs["without"] == {"Query": 1, "TransactWriteItems": 1}


def test_the_local_stack_reads_the_embedded_tables_stream_into_the_same_counters(fresh_table, dynamodb_endpoint,
                                                                                store, plugins):
    from infra.local import StreamPoller

    brand = f"l{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER))
    at = datetime(2026, 3, 2, 3, 0, tzinfo=timezone.utc)
    member = register(store, brand, at)
    poller = StreamPoller(dynamodb_endpoint, fresh_table, "us-east-1")
    assert poller.poll_once() > 0
    Engine(store, plugins, runtime.bus()).handle(business_event("order.paid", order_paid(brand, member, 8800),
                                                                time=at, source=f"siyu.brand.{brand}"))
    assert poller.poll_once() > 0 and poller.poll_once() == 0
    (day,) = insights(brand, local(at), local(at)).values()
    assert (day["newMembers"], day["orders"], day["gmvFen"], day["aovFen"]) == (1, 1, 8800, 8800)


def test_a_backwards_or_overlong_range_is_refused_clearly_and_members_cannot_read_a_brands_kpis(store, brand_id):
    from tests.helpers import error_codes

    query = 'query ($from: Date!, $to: Date!) { insights(from: $from, to: $to) { date orders } }'
    for start, end in (("2026-03-02", "2026-03-01"), ("2025-01-01", "2026-03-01")):
        _, body = call_graphql(query, {"from": start, "to": end}, token=token("staff", "analyst", brand_id))
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert "366" in body["errors"][0]["message"]
    member = register(store, brand_id, datetime(2026, 3, 1, tzinfo=timezone.utc))
    _, body = call_graphql(query, {"from": "2026-03-01", "to": "2026-03-01"}, token=token("member", member, brand_id))
    assert error_codes(body) == ["FORBIDDEN"]
    _, body = call_graphql(query, {"from": "2026-03-01", "to": "2026-03-02"}, token=token("staff", "analyst", brand_id))
    assert [d["orders"] for d in body["data"]["insights"]] == [0, 0]  # a brand with nothing counted yet: zeros
