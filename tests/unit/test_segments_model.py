"""The segments plugin's judgement with the playbook's numbers (DOMAIN.md 1.2-1.4), pure: no table."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plugins.segments.effects import OrderFact
from plugins.segments.model import candidates, classify, next_change, settings

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
CFG = settings({})


def orders(*spec) -> tuple[OrderFact, ...]:
    """(days ago, yuan[, refunded yuan])"""
    return tuple(OrderFact(f"o{i}", NOW - timedelta(days=ago), yuan * 100, (rest[0] * 100 if rest else 0))
                 for i, (ago, yuan, *rest) in enumerate(spec))


def judge(held, at=NOW, referrals=()):
    return classify(CFG, held, at, registered_at=NOW - timedelta(days=800), first_order_at=None,
                    last_order_at=None, referrals=referrals)


def test_three_orders_of_400_yuan_this_month_make_an_important_value_customer_of_medium_value():
    j = judge(orders((2, 400), (10, 400), (20, 400), (200, 50)))
    assert j.stage == "ACTIVE"  # a member since their first order 200 days ago
    assert {"RFM_IMPORTANT_VALUE", "VALUE_MEDIUM"} <= j.segments  # 1,250 yuan net: above 1,000, below 5,000
    assert j.inputs["frequency"] == "HIGH" and j.inputs["monetary"] == "HIGH" and j.inputs["aovFen"] == 31_250


def test_a_first_order_20_days_ago_is_new():
    assert judge(orders((2, 400), (20, 400))).stage == "NEW"


def test_one_order_of_80_yuan_four_months_ago_is_general_retain_low_value_and_sleeping():
    j = judge(orders((120, 80)))
    assert j.stage == "SLEEPING"
    assert {"RFM_GENERAL_RETAIN", "VALUE_LOW"} <= j.segments


def test_a_big_spender_gone_quiet_is_important_retain_and_high_value():
    j = judge(orders((100, 3000), (110, 2500)))  # 5,500 yuan, last order 100 days ago, AOV 2,750 yuan
    assert {"RFM_IMPORTANT_RETAIN", "VALUE_HIGH"} <= j.segments


def test_three_referred_members_in_a_year_make_a_small_spender_high_value():
    j = judge(orders((5, 50)), referrals=[NOW - timedelta(days=d) for d in (10, 100, 300)])
    assert "VALUE_HIGH" in j.segments
    assert "VALUE_HIGH" not in judge(orders((5, 50)), referrals=[NOW - timedelta(days=d) for d in (10, 100, 400)]).segments


def test_personas_high_net_worth_high_frequency_growth_and_dormant():
    assert "PERSONA_HIGH_NET_WORTH" in judge(orders((5, 50_001))).segments
    assert "PERSONA_HIGH_NET_WORTH" not in judge(orders((5, 50_000))).segments
    assert "PERSONA_HIGH_FREQUENCY" in judge(orders((1, 10), (5, 10), (9, 10), (20, 10))).segments
    assert "PERSONA_HIGH_FREQUENCY" not in judge(orders((1, 10), (5, 10), (9, 10))).segments
    # Up more than 30% year on year: 1,310 against 1,000 is; 1,300 is not.
    assert "PERSONA_GROWTH" in judge(orders((10, 1310), (400, 1000))).segments
    assert "PERSONA_GROWTH" not in judge(orders((10, 1300), (400, 1000))).segments
    assert "PERSONA_DORMANT" in judge(orders((180, 100))).segments and judge(orders((180, 100))).stage == "DORMANT"


def test_a_fully_refunded_order_is_no_order():
    assert judge(orders((3, 500, 500))).stage == "PROSPECT"
    assert judge(orders((3, 500, 500), (60, 100))).stage == "SLEEPING"


def test_the_next_change_is_the_first_instant_the_judgement_differs():
    held = orders((10, 88))  # one order, 10 days ago
    now_judged = judge(held)

    def at(t):
        return judge(held, t)

    due = next_change(at, now_judged, candidates(CFG, held, None, (), None, NOW))
    # NEW would end and SLEEPING begin 30 days after the order: 20 days from now, the first instant that differs.
    assert due == NOW + timedelta(days=20)
