"""A brand whose lifecycle stages, RFM groups and KPIs are known, for the console's intelligence pages.

Run inside the browser tests' stack (`python -m tests.browser.intelligence_seed BRAND`, with the stack's table in
the environment, as `siyu` runs): members register, consent to behaviour analytics and pay orders over the last 60
brand-local days, each event through the engine as delivered, and the daily sweep runs on each day an event
happens and once for today, as the scheduler would have. Prints what it made (JSON) for the test to check against.

The days, counted back from today's brand-local midnight (T), with the presets (NEW within 30 days of the first
order, SLEEPING after 30 days without one; R high: an order within 30 days; F high: more than one order in 90
days; M high: 12-month AOV of 100 yuan or more; high value: 5,000 yuan net in 12 months, medium 1,000):

    two prospects       registered T-20, no order                              PROSPECT
    new                 registered T-6, 88 yuan on T-5                          NEW       一般发展   低价值
    active-high         registered T-60, 3,000 yuan on T-50 and on T-10        ACTIVE    重要价值   高价值
    active-medium       registered T-60, 600 yuan on T-50 and on T-10          ACTIVE    重要价值   中价值
    active-low          registered T-60, 50 yuan on T-50 and on T-10           ACTIVE    一般价值   低价值
    sleeping-big        registered T-46, 500 yuan on T-45                       SLEEPING  重要挽留   低价值
    sleeping-small      registered T-46, 30 yuan on T-45                        SLEEPING  一般挽留   低价值
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

# History up to 60 days old is delivered now: the engine believes events up to this age (rules/time_sanity.py).
os.environ["SIYU_EVENT_MAX_AGE_DAYS"] = "90"

from infra import runtime  # noqa: E402 - after the setting above
from infra.settings import settings  # noqa: E402
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig  # noqa: E402
from rules.consent import set_consent  # noqa: E402
from rules.events import SweepEvent  # noqa: E402
from rules.plugin_manager import registry  # noqa: E402
from rules.registration import register_member  # noqa: E402
from rules.sweeps import DAILY  # noqa: E402

ZONE = ZoneInfo("Asia/Shanghai")
PLUGINS = ("points", "tiers", "points_expiry", "coupons", "segments")
# role: (registered, [(days back, yuan)]), days counted back from today's brand-local midnight.
MEMBERS = {
    "prospect-1": (20, []),
    "prospect-2": (20, []),
    "new": (6, [(5, 88)]),
    "active-high": (60, [(50, 3000), (10, 3000)]),
    "active-medium": (60, [(50, 600), (10, 600)]),
    "active-low": (60, [(50, 50), (10, 50)]),
    "sleeping-big": (46, [(45, 500)]),
    "sleeping-small": (46, [(45, 30)]),
}


def seed(brand_id: str) -> dict:
    store, engine, plugins = runtime.store(), runtime.engine(), registry()
    midnight = datetime.combine(datetime.now(ZONE).date(), time(0), ZONE).astimezone(timezone.utc)

    def at(days_back: int) -> datetime:
        return midnight - timedelta(days=days_back) + timedelta(hours=2)  # 10:00 in the brand's day

    demo = {name: params for name, params in (store.get_brand("baiguoyuan", fresh=True).plugins or {}).items()}
    enabled = {name: plugins.validate_params(name, demo.get(name, {}) if name == "coupons" else {})
               for name in PLUGINS}
    store.put_brand(BrandConfig(brand_id, "洞察演示", BAIGUOYUAN_LADDER, plugins=enabled))
    # Configured before its history starts: its first sweep catches up every day since.
    store.advance_watermark(DAILY, brand_id, read=None, to=midnight - timedelta(days=61))

    happenings: list[tuple[datetime, str, dict]] = []
    members: dict[str, str] = {}
    for role, (registered, orders) in MEMBERS.items():
        when = at(registered)
        member_id = register_member(store, brand_id=brand_id, phone_number=f"1370{uuid.uuid4().int % 10**7:07d}",
                                    channel="miniprogram", now=when, phone_key=settings().phone_hash_key,
                                    nickname=role).member_id
        members[role] = member_id
        set_consent(store, brand_id, member_id, purpose="behaviour_analytics", granted=True,
                    policy_version="2026-01", now=when, actor=member_id)
        happenings.append((when, "member.registered", {"brandId": brand_id, "memberId": member_id,
                                                       "channel": "miniprogram"}))
        for number, (days_back, amount) in enumerate(orders, start=1):
            happenings.append((at(days_back), "order.paid", {
                "brandId": brand_id, "memberId": member_id, "orderId": f"{role}-{number}", "amountFen": amount * 100,
                "channel": "pos"}))

    def sweep(until: datetime) -> None:
        summary = engine.sweep(SweepEvent(event_id=f"seed-sweep-{brand_id}-{until:%Y%m%d}", sweep=DAILY,
                                          time=until))
        assert summary.status == "applied", summary.as_dict()

    swept = None
    for when, detail_type, detail in sorted(happenings, key=lambda h: h[0]):
        day = datetime.combine(when.astimezone(ZONE).date(), time(0), ZONE).astimezone(timezone.utc)
        if day != swept:
            sweep(day)
            swept = day
        summary = engine.handle({"version": "0", "id": str(uuid.uuid4()), "detail-type": detail_type,
                                 "source": f"siyu.brand.{brand_id}.seed", "time": when.isoformat(),
                                 "detail": detail})
        assert summary.status == "applied", summary.as_dict()
    sweep(midnight)
    return {"brand": brand_id, "members": members, "today": midnight.astimezone(ZONE).date().isoformat(),
            "first": at(60).astimezone(ZONE).date().isoformat()}


if __name__ == "__main__":
    print(json.dumps(seed(sys.argv[1])))
