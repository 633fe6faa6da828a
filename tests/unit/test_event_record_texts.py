"""The event's processed record as `Engine._attempt` makes it: each decision described once, the record's effects
and the member's activity sharing the same texts, brand effects left out of the activity, follow-ups as dicts.
Compared with the record the old generator expressions made, on a stub store (nothing but the record is looked at)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import MappingProxyType

from rules import effects as fx
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.engine import Decision, Engine, Evaluation, FollowUp
from rules.events import BusinessEvent, fingerprint
from rules.members import MemberState

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
BRAND = BrandConfig("b1", "Brand", BAIGUOYUAN_LADDER, plugins={})
EVENT = BusinessEvent("ev1", "order.paid", "siyu.shop", NOW, "b1",
                      MappingProxyType({"brandId": "b1", "memberId": "m1", "orderId": "o1", "amountFen": 9900}))


class _Store:
    def __init__(self) -> None:
        self.records = []

    def commit_event(self, record, change, side) -> None:
        self.records.append(record)


def old_record_parts(evaluation: Evaluation):
    described = [(d, d.describe()) for d in evaluation.decisions]
    return (tuple(text for _, text in described), tuple(f.as_dict() for f in evaluation.follow_ups),
            tuple(text for d, text in described if not isinstance(d.effect, fx.BrandEffect)))


def run(decisions, follow_ups):
    store = _Store()
    engine = Engine(store, plugins=None)  # type: ignore[arg-type]
    evaluation = Evaluation(tuple(decisions), None, tuple(follow_ups))
    engine._load_member = lambda *args, **kwargs: None  # type: ignore[method-assign]
    engine.load_extras = lambda *args: {}  # type: ignore[method-assign]
    engine.evaluate = lambda *args, **kwargs: evaluation  # type: ignore[method-assign]
    summary = engine._attempt(EVENT, BRAND, "siyu_order_paid", None, None, "ev1")
    (record,) = store.records
    return record, summary, evaluation


AWARD = fx.AwardPoints(points=12, expires_at=NOW + timedelta(days=365), reason="order o1", rule="points-per-yuan",
                       inputs={"orderId": "o1"}, source="points:order:o1")
ALERT = fx.BrandEmit(detail_type="alert.raised", detail={"alertId": "a1"}, rule="threshold", inputs={"n": 3})
NOTE = fx.Note(message="nothing", rule="why-not")


def test_the_record_holds_what_the_old_expressions_made():
    cases = [
        ([], []),
        ([Decision("points", "1.0", AWARD)], []),
        ([Decision("crisis", "1.0", ALERT)], [FollowUp("f1", "alert.raised", NOW, {"alertId": "a1"})]),
        ([Decision("points", "1.0", AWARD), Decision("crisis", "1.0", ALERT), Decision("coupons", "2.0", NOTE),
          Decision("crisis", "1.0", ALERT, "suppressed")],
         [FollowUp("f1", "alert.raised", NOW, {"alertId": "a1"}), FollowUp("f2", "x.y", NOW, MappingProxyType({}))]),
    ]
    for decisions, follow_ups in cases:
        record, summary, evaluation = run(decisions, follow_ups)
        effects, follows, members = old_record_parts(evaluation)
        assert record.effects == effects and record.follow_ups == follows and record.member_effects == members
        assert type(record.effects) is type(record.follow_ups) is type(record.member_effects) is tuple
        # The activity's texts are the record's own objects, as before (described once).
        own = [text for text in record.effects if any(text is m for m in record.member_effects)]
        assert own == list(record.member_effects)
        assert record.fingerprint == fingerprint("order.paid", EVENT.detail)
        assert record.amount_fen == 9900 and record.at == NOW and record.member_id is None
        assert summary.status == "applied" and summary.effects == list(effects)
