"""`tiers`: growth value from spending, and upgrades the moment a threshold is crossed.

The ladder itself is brand data (`BrandConfig.tiers`, e.g. 百果园 普卡 0 / 银卡 500 / 金卡 2,000 / 钻卡 5,000).
Parameters:
- `growthPerYuan` (1): growth value per yuan paid, rounded down (百果园: 1 yuan = 1 growth).
- `validityMonths` (6): how long a tier is held after it is reached.
"""

from __future__ import annotations

from datetime import timedelta

from rules.effects import AddGrowth, Emit, Once, SetTier
from rules.hookspecs import hookimpl
from rules.plugins import PluginInfo

NAME = "tiers"
VERSION = "1.0.0"

PARAMS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "growthPerYuan": {"type": "number", "minimum": 0, "maximum": 1000, "default": 1},
        "validityMonths": {"type": "integer", "minimum": 1, "maximum": 120, "default": 6},
    },
}


@hookimpl
def siyu_plugin_info():
    return PluginInfo(NAME, VERSION, PARAMS_SCHEMA, order=20,
                      description="Growth value from spending; upgrades when a threshold is crossed.")


@hookimpl
def siyu_order_paid(event, context):
    order_id = event.get("orderId")
    key = f"{NAME}:order:{order_id}"
    member = context.member
    if member.has(key):
        return
    growth = int(event.get("amountFen") * context.params["growthPerYuan"] // 100)
    yield Once(key=key, rule="growth-once-per-order", inputs={"orderId": order_id})
    if growth <= 0:
        return
    yield AddGrowth(growth=growth, rule="growth-per-yuan",
                    inputs={"orderId": order_id, "amountFen": event.get("amountFen"),
                            "growthPerYuan": context.params["growthPerYuan"]})
    total = member.growth + growth
    current = context.brand.tier(member.tier_code)
    reached = context.brand.tier_for_growth(total)
    if reached.threshold > current.threshold:
        valid_until = context.now + timedelta(days=30 * context.params["validityMonths"])
        inputs = {"growth": total, "threshold": reached.threshold, "from": current.code}
        yield SetTier(code=reached.code, valid_until=valid_until, rule="upgrade-on-threshold", inputs=inputs)
        yield Emit(detail_type="tier.changed", rule="upgrade-on-threshold", inputs=inputs,
                   detail={"from": current.code, "to": reached.code, "growth": total})
