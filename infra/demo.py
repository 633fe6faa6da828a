"""The demo brand that `make dev` loads: 百果园's ladder (普卡/银卡/金卡/钻卡) with a few members and their orders.

The members' histories are real `order.paid` events, each run through the engine as it was received on its day
(its receiving clock a minute after the order), so points, growth, tiers, upgrade coupons, lifecycle stages and
the brand's figures are what the rules make of those orders, exactly as for any member; nothing is written around
the rules. Loading is idempotent: a demo member found by phone (an earlier run's, from the saved data) is left as
it is.
Member ids are derived from the demo phone numbers, so they (and the tokens `make dev` prints for them) are the
same on every machine and after `make dev RESET=1`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError

from rules import phone
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.errors import AlreadyRegistered
from rules.members import LookupKind, Registration, plan_registration
from rules.persistence import LookupTaken, Store

DEMO_BRAND = "baiguoyuan"


def demo_plugins() -> list[str]:
    """Every built-in plugin of every family (the demo brand enables them all)."""
    import importlib

    from rules.family import families
    from rules.plugin_manager import describe

    return [describe(importlib.import_module(module)).name for module in families().plugin_modules]


def _demo_params() -> dict[str, dict]:
    from rules.family import families

    return {name: dict(params) for name, params in families().demo_params.items()}


@dataclass(frozen=True)
class DemoMember:
    phone: str
    channel: str
    orders: tuple[tuple[int, int], ...]  # (yuan paid, days ago), oldest first


# With the demo brand's rules (1 point and 1 growth per yuan, points valid 365 days): the first member reaches 金卡
# with 2,300 points, the second 银卡 with 500, the third 钻卡 with 5,400.
DEMO_MEMBERS = (
    DemoMember("13800138000", "miniprogram", ((1200, 150), (800, 40), (300, 2))),
    DemoMember("13900139000", "wecom", ((500, 10),)),
    DemoMember("13700137000", "store", ((3000, 200), (2400, 30))),
)


def load(store: Store, *, now: datetime, phone_key: str) -> dict[str, str]:
    """Create (or find) the demo brand and members; returns masked phone -> member id."""
    brand = store.get_brand(DEMO_BRAND)
    if brand is None:
        from rules.plugin_manager import registry

        plugins = registry()
        params = _demo_params()
        enabled = {name: plugins.validate_params(name, params.get(name, {})) for name in demo_plugins()
                   if name in plugins.infos}
        brand = store.put_brand(BrandConfig(DEMO_BRAND, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    loaded: dict[str, str] = {}
    for demo in DEMO_MEMBERS:
        hashed = phone.phone_hash(phone.normalise(demo.phone), phone_key)
        member_id = store.find_member_id(DEMO_BRAND, LookupKind.PHONE, hashed)
        loaded[phone.mask(phone.normalise(demo.phone))] = member_id
        if member_id is not None:
            continue  # loaded by an earlier run (the data is saved): what happened to it since stays
        member_id = loaded[phone.mask(phone.normalise(demo.phone))] = _register(store, brand, demo, now=now,
                                                                                phone_key=phone_key)
        _replay_orders(store, demo, member_id, now=now)
    return loaded


def demo_order(demo: DemoMember, member_id: str, index: int, *, now: datetime) -> dict[str, Any]:
    """The demo member's `index`th order as the shop would have sent it (its id is the same on every load)."""
    yuan, days_ago = demo.orders[index]
    return {"version": "0", "id": f"demo-{member_id}-order-{index}", "detail-type": "order.paid",
            "source": "siyu.shop", "time": (now - timedelta(days=days_ago)).isoformat(),
            "detail": {"brandId": DEMO_BRAND, "memberId": member_id, "orderId": f"DEMO-{member_id[2:10]}-{index + 1}",
                       "amountFen": yuan * 100, "channel": demo.channel}}


def _replay_orders(store: Store, demo: DemoMember, member_id: str, *, now: datetime) -> None:
    """Each order through the engine on its own day, its follow-ups (a tier change) delivered as they happen."""
    from infra.eventbus import InProcessBus
    from rules.engine import Engine
    from rules.plugin_manager import registry

    received = [now]
    bus = InProcessBus()
    engine = Engine(store, registry(), bus, clock=lambda: received[0])
    bus.handler = lambda event, _context: engine.handle(event)
    for index in range(len(demo.orders)):
        event = demo_order(demo, member_id, index, now=now)
        received[0] = datetime.fromisoformat(event["time"]) + timedelta(minutes=1)
        summary = engine.handle(event)
        if summary.status not in ("applied", "duplicate"):
            raise RuntimeError(f"the demo order {event['id']} was {summary.status}: {summary.reason}")


def demo_member_id(phone_number: str) -> str:
    """The demo member's id: shaped like any other (`m_` and 16 hex digits), derived from the demo number."""
    return "m_" + hashlib.sha256(f"{DEMO_BRAND}:{phone_number}".encode()).hexdigest()[:16]


def _register(store: Store, brand: BrandConfig, demo: DemoMember, *, now: datetime, phone_key: str) -> str:
    planned = plan_registration(brand, brand_id=DEMO_BRAND, phone_number=demo.phone, channel=demo.channel,
                                now=now - timedelta(days=400), phone_key=phone_key)
    registration = Registration(replace(planned.profile, member_id=demo_member_id(demo.phone)), planned.lookups)
    try:
        return store.register(registration).member_id
    except TransactWriteError:
        # The demo member deleted their account (the id stays, erased): the number joins again as a new member.
        return store.register(planned).member_id
    except LookupTaken as taken:  # loaded by another process meanwhile (or, rarely, a referral code collision)
        found = store.find_member_id(DEMO_BRAND, LookupKind.PHONE, planned.profile.phone_hash)
        if found is None:
            raise AlreadyRegistered("phone") from taken
        return found
