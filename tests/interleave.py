"""Racing two operations on the embedded DynamoDB, and the worlds they race in.

`WriteBarrier` holds each racing thread just before its first TransactWriteItems that touches the world's brand,
until every racer has got there: every racer has done all its reads before any of them writes, the interleaving
that loses updates when a read is not a condition of the write. A racer that ends without writing releases the
others. The hook is botocore's own `before-call` event on the client pynamodb uses, so nothing in the code under
test knows it is being raced.

`fresh_world` is a new, empty table with one brand configured for every family (points, tiers, expiry, coupons,
referrals, crisis), so the state a race leaves can be compared whole with the state either serial order leaves.
"""

from __future__ import annotations

import asyncio
import os
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import boto3

from infra import db, runtime, settings, table
from infra.eventbus import InProcessBus
from infra.dynamo_store import DynamoStore
from rules.brand_settings import configure_brand
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Engine
from rules.plugin_manager import registry
from tests.helpers import business_event, call_graphql, order_paid, scheduled_event, token

YUAN = 100
# Whole hours, so the three runs of one race (two serial, one concurrent) share every time they are given.
NOW = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)

COUPONS = {"templates": [
    {"id": "limited-1", "name": "限量券", "kind": "gift", "gift": "durian", "validDays": 30, "stock": 1},
]}
REFERRAL = {"refundWindowDays": 7, "levels": [{"percent": 10, "capFen": 100 * YUAN}]}
CRISIS = {"thresholds": {"negative-posts": {"measure": "negativeCount", "scope": "channel", "windowHours": 24,
                                            "levels": {"blue": 0, "yellow": 1}}}}


# Races replay days gone by: the time-sanity settings (README) are raised as for any replay.
HISTORICAL = {"SIYU_EVENT_MAX_AGE_DAYS": "3650", "SIYU_EVENT_MAX_SKEW_MINUTES": "1440"}


class WriteBarrier:
    def __init__(self, client: Any, match: str, parties: int = 2, timeout: float = 20.0) -> None:
        self._client = client
        self._match = match.encode()
        self._barrier = threading.Barrier(parties)
        self._timeout = timeout
        self._waiting: set[int] = set()
        self._lock = threading.Lock()
        self.met = False  # every racer reached its first write before any wrote
        self._id = f"write-barrier-{id(self)}"

    def _hook(self, model: Any, params: Any, **kwargs: Any) -> None:
        me = threading.get_ident()
        with self._lock:
            if me not in self._waiting or self._match not in (params.get("body") or b""):
                return
            self._waiting.discard(me)
        try:
            self._barrier.wait(self._timeout)
            self.met = True
        except threading.BrokenBarrierError:
            pass  # another racer finished without writing

    def race(self, *operations: Callable[[], Any]) -> list[Any]:
        results: list[Any] = [None] * len(operations)
        errors: list[BaseException] = []

        def run(index: int, operation: Callable[[], Any]) -> None:
            asyncio.set_event_loop(asyncio.new_event_loop())  # mangum runs the GraphQL Lambda on this thread's loop
            with self._lock:
                self._waiting.add(threading.get_ident())
            try:
                results[index] = operation()
            except BaseException as error:  # noqa: BLE001 - reported by the test
                errors.append(error)
            finally:
                with self._lock:
                    never_wrote = threading.get_ident() in self._waiting
                    self._waiting.discard(threading.get_ident())
                if never_wrote:
                    self._barrier.abort()

        events = self._client.meta.events
        events.register("before-call.dynamodb.TransactWriteItems", self._hook, unique_id=self._id)
        try:
            threads = [threading.Thread(target=run, args=(i, op)) for i, op in enumerate(operations)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
        finally:
            events.unregister("before-call.dynamodb.TransactWriteItems", self._hook, unique_id=self._id)
        if errors:
            raise errors[0]
        return results


@dataclass
class World:
    store: DynamoStore
    engine: Engine
    brand: str
    members: dict[str, str] = field(default_factory=dict)

    # ---- what happens in it ----------------------------------------------------------------------------------

    def send(self, detail_type: str, detail: dict, at: datetime, event_id: str) -> dict:
        summary = self.engine.handle(business_event(detail_type, {"brandId": self.brand, **detail}, time=at,
                                                     event_id=event_id)).as_dict()
        assert summary["status"] in ("applied", "duplicate"), summary
        return summary

    def order(self, role: str, order_id: str, yuan: int, at: datetime) -> dict:
        return self.send("order.paid", order_paid(self.brand, self.members[role], yuan * YUAN, order_id=order_id),
                         at, f"pay-{order_id}")

    def refund(self, role: str, order_id: str, yuan: int, at: datetime, refund_id: str) -> dict:
        return self.send("order.refunded", {"memberId": self.members[role], "orderId": order_id,
                                            "amountFen": yuan * YUAN, "refundId": refund_id}, at, f"refund-{refund_id}")

    def sweep(self, at: datetime, event_id: str = "daily") -> dict:
        return self.engine.handle(scheduled_event(at, event_id=f"{event_id}-{at:%Y%m%d}")).as_dict()

    def graphql(self, role: str, query: str, variables: dict | None = None) -> dict:
        status, body = call_graphql(query, variables, token("member", self.members[role], self.brand))
        assert status == 200 and not body.get("errors"), body
        return body["data"]

    def redeem(self, role: str, points: int, key: str) -> str:
        return self.graphql(role, "mutation($p: Int!, $k: String!) { redeemPoints(input: {points: $p, "
                                  "idempotencyKey: $k}) { __typename } }", {"p": points, "k": key}
                            )["redeemPoints"]["__typename"]

    def claim(self, role: str, template: str) -> str:
        return self.graphql(role, "mutation($t: String!) { claimCoupon(templateId: $t) { __typename } }",
                            {"t": template})["claimCoupon"]["__typename"]

    def check_in(self, role: str) -> str:
        return self.graphql(role, "mutation { checkIn { __typename } }")["checkIn"]["__typename"]

    # ---- what it holds -----------------------------------------------------------------------------------------

    def snapshot(self) -> dict:
        """Everything the races can change, with member ids replaced by their roles."""
        names = {member_id: role for role, member_id in self.members.items()}

        def plain(value: Any) -> Any:
            if isinstance(value, str):
                for member_id, role in names.items():
                    value = value.replace(member_id, role)
                return value
            if isinstance(value, dict):
                return {plain(k): plain(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            return value

        members = {}
        for role, member_id in sorted(self.members.items()):
            state = self.store.load_member(self.brand, member_id)
            p = state.points
            assert p.balance == sum(lot.remaining for lot in p.lots), f"{role}: balance is not the sum of its lots"
            balance = state.holdings.get("commission_balance", ())
            members[role] = {
                "balance": p.balance, "debt": p.debt, "growth": state.profile.growth, "tier": state.profile.tier_code,
                "lots": sorted((lot.earned, lot.remaining) for lot in p.lots),
                "markers": sorted(plain(k) for k in state.markers),
                "coupons": sorted((c.template_id, c.status) for c in state.holdings.get("coupons", ())),
                "commission": (balance[0].pending_fen, balance[0].settled_fen) if balance else (0, 0),
                "commissions": sorted((c.order_id, c.level, c.accrued_fen, c.clawed_fen, c.settled_fen, c.status)
                                      for c in state.holdings.get("commissions", ())),
                "invitees": sorted(plain(r.invitee_id) for r in state.holdings.get("referrals", ())),
            }
        issued, paused = self.store.coupon_state(self.brand)
        alerts = sorted((a.metric, a.scope, a.level, a.status, a.value) for a in self.store.open_alerts(self.brand))
        announced: dict[str, Any] = {}
        for event in self.engine.bus.published:  # each follow-up once (a redelivery publishes the same id again)
            if event.detail_type in ("commission.settled", "tier.changed", "points.expired", "alert.raised"):
                detail = {k: v for k, v in event.detail.items() if k not in ("id", "causedBy", "brandId")}
                announced.setdefault(event.id, (event.detail_type, plain(detail)))
        return {"members": members, "issued": issued, "paused": sorted(paused), "alerts": alerts,
                "announced": sorted(map(repr, announced.values()))}


@contextmanager
def fresh_world(roles: tuple[str, ...] = ("m",), **plugin_params: dict) -> Iterator[World]:
    """A new table, bound for the store, the engine and the GraphQL Lambda alike; removed afterwards."""
    name = f"siyu-race-{uuid.uuid4().hex[:8]}"
    endpoint = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    table.create_table(client, name)
    before = {key: os.environ.get(key) for key in ("TABLE_NAME", *HISTORICAL)}
    os.environ["TABLE_NAME"] = name
    os.environ.update(HISTORICAL)
    db.bind(settings.reload())
    runtime.reset()
    try:
        runtime.store()  # binds the models now, so hooks on db.client() see the GraphQL Lambda's requests too
        store = DynamoStore(brand_cache_seconds=60)
        plugins = registry()
        brand = "race" + uuid.uuid4().hex[:8]
        store.put_brand(BrandConfig(brand, "竞速", BAIGUOYUAN_LADDER))
        params = {"points": {}, "tiers": {}, "points_expiry": {}, "coupons": COUPONS, "referral": REFERRAL,
                  "crisis": CRISIS, **plugin_params}
        configure_brand(store, plugins, brand, now=NOW - timedelta(days=60),
                        plugin_settings=[(n, True, p) for n, p in params.items()])
        world = World(store, Engine(store, plugins, InProcessBus()), brand)
        from tests.helpers import register

        for role in roles:
            world.members[role] = register(store, brand, NOW - timedelta(days=40))
        yield world
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        db.bind(settings.reload())
        runtime.reset()
        client.delete_table(TableName=name)


def race_pair(setup: Callable[[World], None], first: Callable[[World], Any], second: Callable[[World], Any],
              roles: tuple[str, ...] = ("m",), **plugin_params: dict) -> tuple[dict, list[dict], bool]:
    """(the raced state, [state after first-then-second, state after second-then-first], whether both raced
    operations read before either wrote)."""
    serial = []
    for a, b in ((first, second), (second, first)):
        with fresh_world(roles, **plugin_params) as world:
            setup(world)
            a(world)
            b(world)
            serial.append(world.snapshot())
    with fresh_world(roles, **plugin_params) as world:
        setup(world)
        barrier = WriteBarrier(db.client(), world.brand)
        barrier.race(lambda: first(world), lambda: second(world))
        return world.snapshot(), serial, barrier.met
