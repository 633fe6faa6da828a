"""A transaction built item by item from per-class plans (`infra.transactions.Transaction.commit`), its expressions
remembered per shape, sends exactly what pynamodb's `TransactWrite` sent for the same items: the same request dict,
key order included, so botocore (or the wire path) turns it into the same bytes. (tests/conftest.py also checks every
transaction the rest of the suite commits against the same reference, tests/wire_reference.py.)"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import botocore.session
import pytest
from botocore.serialize import JSONSerializer
from pynamodb.exceptions import AttributeNullError

from infra import dynamo_wire, keys
from infra.dynamo_store import posting_writes
from infra.models import (ActivityItem, AllocationMap, EntryItem, LotItem, MarkerGroupItem, MarkerItem, MemberItem, ProcessedItem,
                          SiyuItem)
from infra.transactions import Transaction, at, fixed
from rules.ledger import Allocation, Entry, EntryKind, Lot, LotUpdate, Posting
from rules.members import MemberProfile
from tests.wire_reference import Recording, as_pynamodb_sent_it, same_bytes

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
MODEL = botocore.session.get_session().get_service_model("dynamodb")


def profile() -> MemberProfile:
    return MemberProfile(brand_id="b1", member_id="m1", phone_hash="h", phone_masked="139****0000",
                         channel="miniprogram", referral_code="R1", registered_at=T, tier_code="PU")


def an_order_paid_transaction() -> Transaction:
    tx = Transaction()
    mpk = keys.member_pk("b1", "m1")
    tx.put("event", ProcessedItem(keys.event_pk("b1", "e1"), keys.PROCESSED, event_id="e1", brand_id="b1",
                                  detail_type="order.paid", at=T, effects=None, member_id="m1", follow_ups=[],
                                  fingerprint="f" * 16, ttl=T + timedelta(days=35), subject_id="m1",
                                  amount_fen=12900), ProcessedItem.pk.does_not_exist(), return_old=True)
    tx.put("conflict", ActivityItem(keys.ledger_pk("b1", "m1"), keys.activity_sk(T, "e1"), event_id="e1",
                                    detail_type="order.paid", at=T,
                                    packed=[{"effect": "AwardPoints", "points": 129, "名": "积分"}]),
           ActivityItem.pk.does_not_exist())
    tx.put("conflict", MarkerGroupItem(mpk, keys.marker_group_sk(T, "e1", "o1"), at=T,
                                       marks={"points:order:o1": [None, T.isoformat()],
                                              "tiers:o1": [{"fen": 12900}, T.isoformat()]},
                                       ttl=T + timedelta(days=120)), MarkerGroupItem.pk.does_not_exist())
    tx.put("conflict", MarkerItem(mpk, keys.marker_sk("referral:due"), key="referral:due", at=T,
                                  ttl=T + timedelta(days=9), data=None, gsi1pk=keys.due_pk(T, "m1"),
                                  gsi1sk=keys.due_sk(T, "MARK", "b1", "m1", "referral:due")),
           MarkerItem.pk.does_not_exist() | (MarkerItem.ttl <= T))
    lots = (Lot("l-new", 129, 129, T, T + timedelta(days=365), "points:order:o1"),)
    entry = Entry("e-1", T, EntryKind.EARN, 129, (Allocation("l-new", T + timedelta(days=365), 129),),
                  reason="order", actor="plugin:points@1", event_id="e1", explanation={"rule": "x", "inputs": {}})
    old = Lot("l-old", 100, 100, T - timedelta(days=300), T + timedelta(days=65), listed=False)
    posting = Posting(entries=(entry,), new_lots=lots,
                      lot_updates=(LotUpdate("l-spent", T + timedelta(days=30), 50, 0),
                                   LotUpdate("l-part", T + timedelta(days=40), 80, 30),
                                   LotUpdate("l-back", T + timedelta(days=20), None, 25)),
                      listed=(old,))
    posting_writes(tx, profile(), posting, due_floor=T + timedelta(days=1))
    member = MemberItem(mpk, keys.PROFILE)
    tx.update("conflict", member, [MemberItem.version.add(1), MemberItem.balance.add(129),
                                   MemberItem.totals.set({"net:2026-03": 12900}), MemberItem.gsi1pk.remove()],
              MemberItem.pk.exists() & MemberItem.erased_at.does_not_exist() & (MemberItem.version == 7))
    tx.check("member", MemberItem, mpk, keys.PROFILE, MemberItem.pk.exists())
    counter = EntryItem(keys.ledger_pk("b1", "m1"), "COUNT#x")
    tx.add(counter, also_set={"reason": "两次"}, points=3)
    tx.add(EntryItem(keys.ledger_pk("b1", "m1"), "COUNT#x"), points=4)
    return tx


def test_an_order_paid_transaction_sends_what_pynamodb_sent():
    tx = an_order_paid_transaction()
    ours, theirs = Recording(), Recording()
    tx.commit(ours)
    as_pynamodb_sent_it(tx, theirs)
    assert ours.sent == theirs.sent
    # Key order too (the packed effects are bytes, base64 on the wire): the JSON body is the same bytes.
    assert json.dumps(ours.sent, default=repr) == json.dumps(theirs.sent, default=repr)


def test_the_request_body_is_the_bytes_botocore_would_send():
    tx = an_order_paid_transaction()
    ours, theirs = Recording(), Recording()
    tx.commit(ours)
    as_pynamodb_sent_it(tx, theirs)
    operation = MODEL.operation_model("TransactWriteItems")

    def body(sent):  # what pynamodb's connection wraps the items in
        items = ([{"ConditionCheck": i} for i in sent["condition_check_items"]]
                 + [{"Delete": i} for i in sent["delete_items"]] + [{"Put": i} for i in sent["put_items"]]
                 + [{"Update": i} for i in sent["update_items"]])
        return {"TransactItems": items}

    botocores = JSONSerializer().serialize_to_request(body(theirs.sent[0]), operation)["body"]
    wired = dynamo_wire.WireJSONSerializer().serialize_to_request(body(ours.sent[0]), operation)["body"]
    assert json.loads(wired) == json.loads(botocores) and wired == botocores


def test_a_missing_required_attribute_is_refused_as_pynamodb_refuses_it():
    tx = Transaction()
    tx.put("conflict", LotItem(keys.member_pk("b1", "m1"), "LOT#x", brand_id="b1"), None)
    with pytest.raises(AttributeNullError):
        tx.commit(Recording())
    with pytest.raises(AttributeNullError):
        as_pynamodb_sent_it(tx, Recording())


def test_the_table_is_the_models_table():
    tx = Transaction()
    tx.delete("conflict", LotItem(keys.member_pk("b1", "m1"), "LOT#x"), LotItem.remaining == 3)
    sent = Recording()
    tx.commit(sent)
    assert sent.sent[0]["delete_items"][0]["TableName"] == SiyuItem.Meta.table_name


# ---- every kind of condition and action, each shape sent twice (the second from the remembered shape) -------------

def shapes(n: int) -> Transaction:
    """Items with every condition, operand and action pynamodb has, their values varied by `n`."""
    from pynamodb.expressions.condition import size

    tx = Transaction()
    mpk, lpk = keys.member_pk("b1", f"m{n}"), keys.ledger_pk("b1", f"m{n}")
    member = MemberItem
    tx.check("member", MemberItem, mpk, keys.PROFILE,
             (member.version != n) & ~member.erased_at.exists() & member.tier_code.is_in("PU", "YIN", f"T{n}")
             & member.balance.between(n, n + 100) & member.referral_code.startswith("R")
             & member.tags.contains(f"vip{n}") & (size(member.tags) < 5 + n) & member.nickname.is_type())
    with pytest.raises(TypeError):  # as pynamodb refuses it
        tx.check("member", MemberItem, mpk, keys.PROFILE, None)
    tx.delete("conflict", LotItem(mpk, f"LOT#{n}"), (LotItem.remaining > n) | (LotItem.remaining < -n))
    tx.delete("conflict", LotItem(mpk, f"LOT#x{n}"))
    tx.put("conflict", EntryItem(lpk, f"E#{n}", entry_id=f"e{n}", at=T, entry_kind="earn", points=n,
                                 allocations=[AllocationMap(lot=f"l{n}", expires_at=T, points=n)],
                                 explanation={"rule": n}), EntryItem.pk.does_not_exist() | (EntryItem.points >= n))
    tx.put("conflict", MarkerItem(mpk, f"M#{n}", key=f"k{n}", at=T), None, return_old=bool(n % 2))
    tx.update("conflict", MemberItem(mpk, keys.PROFILE),
              [member.balance.add(n), member.tags.add({f"vip{n}", "x"}), member.tags.delete({"old"}),
               member.growth.set(member.growth + n), member.debt.set(member.debt - n),
               member.nickname.set(member.nickname | f"nick{n}"), member.phone_masked.remove(),
               at(member.tier_code).set(f"T{n}"), at(member.version).add(1), at(member.tier_valid_until).set(T),
               at(member.totals).set({"net": n}), at(member.gsi1pk).remove()],
              (at(member.version) == n) & at(member.pk).exists())
    tx.update("conflict", EntryItem(lpk, f"E#{n}"),
              [EntryItem.allocations.set(EntryItem.allocations.append([AllocationMap(lot="l", expires_at=T,
                                                                                     points=n)])),
               EntryItem.reason.set(None)], None)
    tx.update("conflict", LotItem(mpk, f"LOT#{n}"), [], LotItem.pk.exists())
    tx.add(EntryItem(lpk, "COUNT#x"), also_set={"reason": f"r{n}"}, points=n)
    # Conditions made once (`fixed`): alone, and inside conditions made per write.
    tx.put("conflict", LotItem(mpk, f"LOT#new{n}", brand_id="b1", member_id=f"m{n}", lot_id=f"l{n}", earned=n,
                               remaining=n, earned_at=T, expires_at=T), FIXED_NEW)
    tx.put("conflict", ActivityItem(lpk, f"A#{n}", event_id=f"e{n}", detail_type="x", at=T), FIXED_WITH_VALUE)
    tx.update("conflict", MemberItem(keys.member_pk("b2", f"m{n}"), keys.PROFILE), [at(MemberItem.growth).set(n)],
              FIXED_NEW & (FIXED_WITH_VALUE | (at(MemberItem.version) == n)))
    return tx


FIXED_NEW = fixed(LotItem.pk.does_not_exist())
FIXED_WITH_VALUE = fixed(ActivityItem.pk.does_not_exist() | (ActivityItem.detail_type == "x"))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_every_condition_and_action_is_sent_as_pynamodb_sends_it_the_first_time_and_from_its_shape(n):
    for tx in (shapes(n), shapes(n)):  # the second: every shape already remembered
        ours, theirs = Recording(), Recording()
        tx.commit(ours)
        as_pynamodb_sent_it(tx, theirs)
        assert same_bytes(ours.sent[0], theirs.sent[0])


def test_a_condition_of_a_class_of_its_own_is_serialised_by_pynamodb():
    from infra.item_codec import remembered

    for n in (1, 2):
        tx = Transaction()
        tx.delete("conflict", LotItem(keys.member_pk("b1", "m1"), "LOT#x"),
                  remembered(LotItem.remaining == 3) & (LotItem.remaining <= n))
        ours, theirs = Recording(), Recording()
        tx.commit(ours)
        as_pynamodb_sent_it(tx, theirs)
        assert same_bytes(ours.sent[0], theirs.sent[0])


def test_a_path_made_once_builds_what_the_attribute_builds():
    for attribute, value in ((MemberItem.balance, 5), (MemberItem.tier_code, "G"), (MemberItem.tier_valid_until, T),
                             (MemberItem.totals, {"N": 1}), (MemberItem.tags, {"a"}), (MemberItem.ttl, T),
                             (MemberItem.ttl, T.replace(microsecond=7)),
                             (MemberItem.ttl, T.astimezone(timezone(timedelta(hours=8)))),
                             (MemberItem.balance, 2 ** 70), (MemberItem.balance, 1.5), (MemberItem.balance, True),
                             (EntryItem.allocations, [AllocationMap(lot="l", expires_at=T, points=1)])):
        for ours, theirs in ((at(attribute).set(value), attribute.set(value)),
                             (at(attribute) == value, attribute == value)):
            assert type(ours) is type(theirs)
            assert [getattr(v, "values", v) for v in ours.values[1:]] == [getattr(v, "values", v)
                                                                        for v in theirs.values[1:]]
            assert ours.values[1].attr_type == theirs.values[1].attr_type
    for attribute, delta in ((MemberItem.balance, 3), (MemberItem.debt, -7), (MemberItem.version, 2 ** 70),
                             (MemberItem.balance, True), (MemberItem.balance, 1.5), (MemberItem.tags, {"a"})):
        ours, theirs = at(attribute).add(delta), attribute.add(delta)
        assert type(ours) is type(theirs) and ours.values[0].path == theirs.values[0].path
        assert (ours.values[1].values, ours.values[1].attr_type) == (theirs.values[1].values, theirs.values[1].attr_type)
    with pytest.raises(ValueError):  # pynamodb's own type check: only numbers and sets are added to
        at(MemberItem.tier_code).add("x")



def _update_actions_as_before(item, actions):
    """`update_actions` before it went through `at` and a kind's action made once per class: the reference."""
    deltas = getattr(item, "_siyu_deltas", None)
    if deltas is None:
        return actions
    cls = type(item)
    out = [getattr(cls, name).add(delta) for name, delta in deltas.items()]
    out += [getattr(cls, name).set(value) for name, value in item._siyu_set.items()]
    out.append(cls.kind.set(cls))
    return out


def test_an_added_items_actions_are_those_the_attributes_made():
    from pynamodb.expressions.update import Update

    from infra.daily_totals import DailyTotalsItem
    from infra.transactions import expressions, update_actions
    from plugins.coupons.storage import CouponCountItem, CouponStockItem, CouponPauseItem
    from plugins.referral.storage import CommissionBalanceItem

    east = T.astimezone(timezone(timedelta(hours=8)))
    cases = [(DailyTotalsItem, {"day1": 3, "day17": -2}, {"ttl": T}), (DailyTotalsItem, {"day2": 0}, {"ttl": east}),
             (DailyTotalsItem, {"day3": 2 ** 70}, {"ttl": T.replace(microsecond=5)}),
             (DailyTotalsItem, {"day4": 5}, {"ttl": None}), (CouponCountItem, {"count": 1}, {}),
             (CouponStockItem, {"issued": 1}, {}), (CouponStockItem, {"issued": True}, {}),
             (CouponStockItem, {"issued": 1.5}, {}), (CouponPauseItem, {"held_by": {"a", "b"}}, {"template_id": "t1"}),
             (CommissionBalanceItem, {"pending_fen": -300, "settled_fen": 300}, {})]
    for twice in (1, 2):  # the kind's action made, then taken again
        for cls, deltas, also_set in cases:
            tx = Transaction()
            tx.add(cls("pk", "sk"), also_set=also_set, **deltas)
            item = tx._updates[0][1]
            ours, theirs = update_actions(item, None), _update_actions_as_before(item, None)
            assert [type(a) for a in ours] == [type(a) for a in theirs]
            names: dict = {}
            values: dict = {}
            their_names: dict = {}
            their_values: dict = {}
            assert Update(*ours).serialize(names, values) == Update(*theirs).serialize(their_names, their_values)
            assert (names, values) == (their_names, their_values)
            assert expressions(None, ours) == expressions(None, theirs)
    plain = [at(MemberItem.balance).add(1)]
    assert update_actions(MemberItem("pk", "sk"), plain) is plain
    tx = Transaction()
    tx.add(CouponPauseItem("pk", "sk"), template_id="x")
    for made in (update_actions, _update_actions_as_before):
        with pytest.raises(ValueError):  # pynamodb's own type check (only numbers and sets are added to), either way
            made(tx._updates[0][1], None)


def test_each_role_names_the_item_at_its_place_in_the_request():
    tx = an_order_paid_transaction()
    tx.delete("reversal", LotItem(keys.member_pk("b1", "m1"), "LOT#gone"), None)
    sent = Recording()
    tx.commit(sent)
    request = sent.sent[0]
    items = (request["condition_check_items"] + request["delete_items"] + request["put_items"]
             + request["update_items"])
    assert len(items) == len(tx.roles)
    named = dict(zip((item.get("Key", item.get("Item"))["sk"]["S"] for item in items), tx.roles))
    assert named[keys.PROCESSED] == "event" and named["LOT#gone"] == "reversal"
    assert tx.roles[0] == "member" and tx.roles[-1] == "conflict"


# ---- the engine's own transactions, flow by flow, and what a cancellation reason means ----------------------------

@pytest.fixture
def counted(monkeypatch):
    """How many transactions were committed (each checked against pynamodb's by tests/conftest.py on its way)."""
    sent = [0]
    checking = Transaction.commit

    def commit(tx, connection):
        sent[0] += 1
        return checking(tx, connection)

    monkeypatch.setattr(Transaction, "commit", commit)
    return sent


def test_each_flow_of_the_engine_sends_what_pynamodb_sent(fresh_table, store, plugins, bus, counted):
    import uuid

    from plugins.coupons import model as coupons
    from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES
    from rules import points
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.engine import Engine
    from tests.helpers import business_event, order_paid, register, scheduled_event

    brand = f"w{uuid.uuid4().hex[:10]}"
    params = {"coupons": {"templates": BAIGUOYUAN_TEMPLATES}}
    enabled = {name: plugins.validate_params(name, params.get(name, {}))
               for name in ("points", "tiers", "points_expiry", "coupons", "referral")}
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    engine = Engine(store, plugins, bus)
    member = register(store, brand, T)

    def flow(send) -> None:
        before = counted[0]
        send()
        assert counted[0] > before  # it went through a transaction, checked on its way

    def event(detail_type, detail, at):
        summary = engine.handle(business_event(detail_type, detail, time=at))
        assert summary.status == "applied", summary.as_dict()

    flow(lambda: event("member.registered", {"brandId": brand, "memberId": member, "channel": "store"}, T))
    flow(lambda: event("order.paid", order_paid(brand, member, 30000, order_id="o-1"), T))
    flow(lambda: event("order.paid", order_paid(brand, member, 12000, order_id="o-2"), T + timedelta(hours=1)))
    flow(lambda: event("order.refunded", {"brandId": brand, "memberId": member, "orderId": "o-1",
                                          "amountFen": 10000}, T + timedelta(hours=2)))
    flow(lambda: event("member.checked_in", {"brandId": brand, "memberId": member}, T + timedelta(hours=3)))
    flow(lambda: points.redeem(store, brand, member, points=50, now=T + timedelta(hours=4), idempotency_key="r1"))
    flow(lambda: coupons.claim(store, store.get_brand(brand), member, "bgy-100-20", T + timedelta(hours=5),
                               request_id="c1"))
    flow(lambda: engine.handle(scheduled_event(T + timedelta(days=365, hours=6))))  # the points expire
    state = store.load_member(brand, member)
    assert state.points.balance == sum(lot.remaining for lot in state.points.lots)


def test_a_cancellation_reason_is_read_as_its_items_role(store, plugins, bus, rules_brand):
    """The processed record (a duplicate: the first delivery's record), the request record (the answer given
    before), a member moved meanwhile (a conflict to plan again): each reason is matched to the item it is about."""
    from rules import points
    from rules.engine import Engine
    from rules.errors import WriteConflict
    from rules.persistence import EventAlreadyProcessed
    from tests.helpers import business_event, order_paid, register

    engine = Engine(store, plugins, bus)
    member = register(store, rules_brand, T)
    paid = business_event("order.paid", order_paid(rules_brand, member, 12900), time=T)
    assert engine.handle(paid).status == "applied"
    assert engine.handle(paid).status == "duplicate"
    first = points.redeem(store, rules_brand, member, points=29, now=T, idempotency_key="same")
    again = points.redeem(store, rules_brand, member, points=29, now=T, idempotency_key="same")
    assert again.replayed and replace(again, replayed=False) == first
    assert store.load_member(rules_brand, member).points.balance == 100

    stale = store.load_member(rules_brand, member)
    engine.handle(business_event("order.paid", order_paid(rules_brand, member, 1000), time=T))
    tx = Transaction()
    tx.put("event", ProcessedItem(keys.event_pk(rules_brand, "late"), keys.PROCESSED, event_id="late",
                                  brand_id=rules_brand, detail_type="order.paid", at=T, follow_ups=[]),
           ProcessedItem.pk.does_not_exist(), return_old=True)
    tx.update("conflict", MemberItem(keys.member_pk(rules_brand, member), keys.PROFILE), [MemberItem.version.add(1)],
              MemberItem.version == stale.version)
    with pytest.raises(WriteConflict):
        store._commit(tx, None)
    tx = Transaction()
    record = store.get_event(rules_brand, paid["id"])
    tx.put("event", ProcessedItem(keys.event_pk(rules_brand, paid["id"]), keys.PROCESSED, event_id=paid["id"],
                                  brand_id=rules_brand, detail_type="order.paid", at=T, follow_ups=[]),
           ProcessedItem.pk.does_not_exist(), return_old=True)
    with pytest.raises(EventAlreadyProcessed) as seen:
        store._commit(tx, None)
    assert seen.value.record == record


def test_shapes_that_differ_only_in_an_operator_a_name_a_length_or_a_clause_are_not_taken_for_each_other():
    remaining, earned = LotItem.remaining, LotItem.earned
    conditions = [remaining == 1, remaining != 1, remaining < 1, remaining <= 1, remaining > 1, remaining >= 1,
                  earned == 1, remaining.is_in(1, 2), remaining.is_in(1, 2, 3), remaining.between(1, 2),
                  remaining.exists(), remaining.does_not_exist(), earned.exists(), ~remaining.exists(),
                  remaining.exists() & earned.exists(), remaining.exists() | earned.exists(),
                  (remaining.exists() & earned.exists()) & remaining.exists(),
                  remaining.exists() & (earned.exists() & remaining.exists())]
    updates = [[remaining.set(1)], [remaining.add(1)], [earned.set(1)], [remaining.set(remaining + 1)],
               [remaining.set(remaining - 1)], [remaining.set(remaining | 1)], [remaining.remove()],
               [remaining.set(1), earned.set(1)], [earned.set(1), remaining.set(1)], [remaining.set(1), earned.add(1)],
               [remaining.add(1), earned.set(1)], []]
    for condition in conditions:
        for actions in updates + [None]:
            tx = Transaction()
            if actions is None:
                tx.delete("conflict", LotItem(keys.member_pk("b1", "m1"), "LOT#x"), condition)
            else:
                tx.update("conflict", LotItem(keys.member_pk("b1", "m1"), "LOT#x"), actions, condition)
            for _ in range(2):  # the second from the remembered shape
                ours, theirs = Recording(), Recording()
                tx.commit(ours)
                as_pynamodb_sent_it(tx, theirs)
                assert same_bytes(ours.sent[0], theirs.sent[0]), (condition, actions)


def test_a_date_is_written_as_pynamodb_writes_it():
    from pynamodb.attributes import UTCDateTimeAttribute

    from infra.transactions import _utc_text

    import random

    attribute = UTCDateTimeAttribute()
    draw = random.Random(15)
    for value in (T, T.replace(second=5, microsecond=7), datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
                  datetime(999, 1, 1, tzinfo=timezone.utc), datetime(1000, 1, 1, tzinfo=timezone.utc),
                  T.astimezone(timezone(timedelta(hours=8))), T.replace(tzinfo=None),
                  *(datetime(1, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=draw.randrange(2 ** 58))
                    for _ in range(2000))):
        assert _utc_text(value) == attribute.serialize(value), value


def test_a_new_items_ttl_is_written_as_pynamodb_writes_it():
    """`ttl_text`: what a TTL attribute's `__set__` then `serialize` make of a value given to a new item."""
    import random

    from pynamodb.attributes import TTLAttribute

    from infra.transactions import _ttl_text, ttl_text

    attribute = TTLAttribute()
    draw = random.Random(15)
    values = [T, T.replace(microsecond=999999), datetime(1970, 1, 1, tzinfo=timezone.utc),
              datetime(1971, 1, 1, tzinfo=timezone.utc) - timedelta(microseconds=1),
              datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc), T.astimezone(timezone(timedelta(hours=8))),
              T.astimezone(timezone(timedelta(hours=-5, minutes=-30))), None,
              *(datetime(1900, 1, 1, tzinfo=timezone.utc) + timedelta(microseconds=draw.randrange(2 ** 58 // 2))
                for _ in range(2000))]
    for value in values:
        normalised = attribute._normalize(value)
        assert ttl_text(value) == attribute.serialize(normalised), value
        if normalised is not None:  # and a value an item holds (normalised by its `__set__`), as `_put` writes it
            assert _ttl_text(attribute.serialize, normalised) == attribute.serialize(normalised), value
    with pytest.raises(ValueError):  # a naive time: refused as the attribute refuses it
        ttl_text(T.replace(tzinfo=None))


def test_json_is_written_as_pynamodb_writes_it():
    from pynamodb.attributes import JSONAttribute

    from infra.transactions import _json_text

    attribute = JSONAttribute()
    for value in ([], {}, [1, "积分"], {"a": None}, "x", 5, None, (), True):
        assert _json_text(value) == attribute.serialize(value)


# ---- commit_event: items written in their wire form, against the models it wrote before ---------------------------

def _effects(order: str, points: int) -> tuple[dict, ...]:
    return ({"plugin": "points", "version": "1.0.0", "effect": "AwardPoints", "rule": "points-per-yuan",
             "inputs": {"orderId": order, "eligibleFen": points * 100}, "points": points, "reason": f"order {order}"},
            {"plugin": "tiers", "version": "1.3.0", "effect": "AddGrowth", "rule": "growth-per-yuan",
             "inputs": {"orderId": order}, "growth": points, "名": "成长值"})


def _earn(entry_id: str, points: int, *, explained: bool = True, at_: datetime = T, **fields) -> Entry:
    explanation = {"plugin": "points", "version": "1.0.0", "rule": "points-per-yuan",
                   "inputs": {"orderId": "o1", "eligibleFen": points * 100}} if explained else None
    return Entry(entry_id, at_, fields.pop("kind", EntryKind.EARN), points,
                 (Allocation(fields.pop("lot", entry_id), T + timedelta(days=365), points),),
                 reason=fields.pop("reason", "order o1"), actor=fields.pop("actor", "plugin:points@1.0.0"),
                 event_id=fields.pop("event_id", "e1"), explanation=explanation, **fields)


def _events_to_commit() -> list[tuple]:
    """(record, change, side): every kind of item `commit_event` writes, each condition and action of the profile's
    update, markers of every home, orders read or not, lots new, listed, emptied, brought back and refilled."""
    from rules.daily_totals import DailyDelta
    from rules.persistence import EventRecord, MemberChange, Standing

    p = profile()
    later = T + timedelta(days=120)
    new_lot = Lot("20260301T020000.000000Z-aaa", 129, 129, T, T + timedelta(days=365), "points:order:o1")
    bare_lot = Lot("l-bare", 7, 7, T, T + timedelta(days=30))
    fx = _effects("o1", 129)

    def record(event_id: str, effects=fx, member_effects=None, **fields) -> EventRecord:
        return EventRecord(event_id=event_id, brand_id="b1", detail_type=fields.pop("detail_type", "order.paid"),
                           at=fields.pop("at", T), effects=tuple(effects), follow_ups=fields.pop("follow_ups", ()),
                           member_effects=member_effects, fingerprint=fields.pop("fingerprint", "f" * 32),
                           member_id=fields.pop("member_id", "m1"), amount_fen=fields.pop("amount_fen", 12900))

    def paid(version: int, **fields) -> MemberChange:
        posting = fields.pop("posting", Posting(entries=(_earn(new_lot.lot_id, 129, event_id="e1"),),
                                                new_lots=(new_lot,), listed=()))
        return MemberChange(p, version, posting=posting,
                            standing=fields.pop("standing", Standing(1837 + version, "YIN", T + timedelta(days=180))),
                            markers=fields.pop("markers", (("points:order:o1", later, {"points": 129}, None),
                                                           ("tiers:order:o1", later, {"growth": 129}, None))),
                            **fields)

    spent = Posting(entries=(Entry("r1", T, EntryKind.REDEEM, -80, (Allocation("l-a", T + timedelta(days=30), -50),
                                                                      Allocation("l-b", T + timedelta(days=40), -30)),
                                   reason="兑换", actor="member", event_id="e1"),),
                    lot_updates=(LotUpdate("l-a", T + timedelta(days=30), 50, 0),
                                 LotUpdate("l-b", T + timedelta(days=40), 80, 50)),
                    listed=(Lot("l-b", 80, 50, T, T + timedelta(days=40)),))
    refund = Posting(entries=(Entry("t1", T, EntryKind.TAKE_BACK, -30,
                                    (Allocation("l-c", T + timedelta(days=50), -30),), event_id="e1"),),
                     lot_updates=(LotUpdate("l-c", T + timedelta(days=50), 30, 0),), debt_delta=12, debt_before=5)
    reversal = Posting(entries=(Entry("v1", T, EntryKind.REVERSE, 40,
                                      (Allocation("l-d", T + timedelta(days=60), 25),
                                       Allocation("l-e", T + timedelta(days=70), 15)), reverses="x1"),),
                       lot_updates=(LotUpdate("l-d", T + timedelta(days=60), None, 25, T - timedelta(days=9), 60),
                                    LotUpdate("l-e", T + timedelta(days=70), 0, 15)),
                       reverses="x1", debt_delta=-3)
    return [
        (record("e1"), paid(3), ()),
        (record("e2", follow_ups=({"id": "f1", "detail-type": "tier.changed"},), amount_fen=None, fingerprint=None),
         paid(4, standing=Standing(2000, "JIN", None, T + timedelta(days=30)), totals={"net:2026-03": 12900},
              due_floor=T + timedelta(days=400),
              posting=Posting(entries=(_earn(new_lot.lot_id, 129),), new_lots=(new_lot, bare_lot))), ()),
        (record("e3", detail_type="points.redeemed"), paid(5, standing=None, totals={}, posting=spent, markers=()),
         ()),
        (record("e4", effects=fx[:1], member_effects=fx[:1]), paid(6, posting=refund, standing=None, markers=(
            ("points:refund:o1#r1", later, {}, None), ("points:settled:o1", later, {"n": 1}, T + timedelta(days=8)),
            ("points:checkin:2026-03-01", later, {}, None), ("points:checkin:2026-03-02", later + timedelta(days=1),
                                                            {"d": 2}, None),
            ("referral:due", T + timedelta(days=9), {}, T + timedelta(days=9)), ("welcome", later, {"x": [1]}, None)),
            orders={"o1": {"marks": {"points:order:o1": [None, later.isoformat()],
                                     "points:late:o1": [{}, (T - timedelta(days=1)).isoformat()]}, "history": False}}),
         ()),
        (record("e5", member_effects=()), paid(7, posting=reversal, daily=(
            DailyDelta("spend", "2026-03", 1, 500, later), DailyDelta("spend", "2026-03", 1, 300, later),
            DailyDelta("visits", "2026-03", 2, 1, later))), ()),
        (record("e6"), paid(8, markers=(("points:order:o1", later, {}, None), ("points:order:o2", later, {}, None)),
                            orders={"o2": {"marks": {}, "history": True}}), ()),
        (record("e7"), paid(9, orders={"o1": {"marks": {"tiers:order:o1": [{"g": 1}, later.isoformat()]},
                                              "history": True}}), ()),
        (record("e8", detail_type="member.checked_in"), MemberChange(p, 10, markers=(
            ("points:checkin:2026-03-03", later, {}, None),)), ()),
        (record("e9", member_effects=fx[1:]), None, ()),
        (record("e10"), paid(11, posting=None, standing=Standing(5, "PU", None)), ()),
        (record("e11"), paid(12, posting=Posting(entries=(_earn("l-x", 5, explained=False, reason=None,
                                                               actor=None, event_id="other"),),
                                                 new_lots=(Lot("l-x", 5, 5, T, T + timedelta(days=365)),),
                                                 listed=None)), ()),
        # Markers of an item each (`_marker_item`): TTLs with microseconds, in another zone, before 1971; data
        # nested, not ASCII; due before the floor (listed at it), after it, not due.
        (record("e12"), paid(13, posting=None, standing=Standing(5, "PU", None), due_floor=T + timedelta(days=2),
                             markers=(("coupons:due:c1", later.replace(microsecond=999), {"名": ["满", {"a": None}]},
                                       T + timedelta(days=1)),
                                      ("coupons:due:c2", later.astimezone(timezone(timedelta(hours=8))), {},
                                       T + timedelta(days=3, microseconds=1)),
                                      ("coupons:keep", datetime(1970, 6, 1, tzinfo=timezone.utc), {"n": 1.5},
                                       None))), ()),
    ]


def test_commit_event_sends_what_its_models_sent_before(monkeypatch):
    """Each event's transaction, its items written in their wire form (`infra.transactions.Written`) and its
    profile update from its shape, equals the one the models of the method as e373a10 wrote it make
    (`commit_event_as_before`), byte for byte and role by role: twice each (the second from the shapes learnt)."""
    import infra.dynamo_store as dynamo_store
    from infra.dynamo_store import DynamoStore
    from tests.wire_reference import as_pynamodb_sent_it, commit_event_as_before

    now = T + timedelta(seconds=1.5)
    monkeypatch.setattr(dynamo_store, "utcnow", lambda: now)
    sent = Recording()
    store = DynamoStore()
    monkeypatch.setattr(store, "_connection", lambda: sent)
    for record, change, side in _events_to_commit() * 2:
        store.commit_event(record, change, side)
        reference = Recording()
        before = commit_event_as_before(record, change, side, dynamo_store.processed_record_expiry(record.at))
        as_pynamodb_sent_it(before, reference)
        assert same_bytes(sent.sent[-1], reference.sent[0]), record.event_id


def test_a_profile_update_is_sent_from_its_shape_only_once_pynamodb_gave_its_values_in_that_order(monkeypatch):
    import infra.dynamo_store as dynamo_store
    from infra.dynamo_store import DynamoStore
    from rules.persistence import EventRecord, MemberChange, Standing

    monkeypatch.setattr(dynamo_store, "_member_shapes", {})
    sent = Recording()
    store = DynamoStore()
    monkeypatch.setattr(store, "_connection", lambda: sent)
    record = EventRecord("e1", "b1", "order.paid", T, (), ())
    # The version read and the points added are both 1: which is which cannot be told from the values.
    store.commit_event(record, MemberChange(profile(), 1, posting=Posting(
        entries=(_earn("l1", 1),), new_lots=(Lot("l1", 1, 1, T, T + timedelta(days=9)),))))
    assert dynamo_store._member_shapes == {}
    store.commit_event(record, MemberChange(profile(), 2, posting=Posting(
        entries=(_earn("l1", 3),), new_lots=(Lot("l1", 3, 3, T, T + timedelta(days=9)),))))
    assert len(dynamo_store._member_shapes) == 1
    store.commit_event(record, MemberChange(profile(), 2, standing=Standing(5, "PU", None)))
    assert len(dynamo_store._member_shapes) == 2
    store.commit_event(record, MemberChange(profile(), 3, standing=Standing(6, "PU", None)))
    assert [tx["update_items"][-1]["UpdateExpression"] for tx in sent.sent] == [
        "ADD #2 :1, #3 :2", "ADD #2 :1, #3 :2", "SET #3 = :1, #4 = :2 REMOVE #5, #6, #7 ADD #2 :3",
        "SET #3 = :1, #4 = :2 REMOVE #5, #6, #7 ADD #2 :3"]
    assert [tx["update_items"][-1]["ExpressionAttributeValues"][":1"] for tx in sent.sent] == [
        {"N": "1"}, {"N": "1"}, {"N": "5"}, {"N": "6"}]


def test_a_marker_of_its_own_is_refused_as_its_model_refused_it(monkeypatch):
    """`_marker_item` writes the marker's wire form; what the model refused (a TTL that is not an aware time, a due
    time that cannot be compared with the floor, a marker without a key) is refused with the same error."""
    import infra.dynamo_store as dynamo_store
    from infra.dynamo_store import DynamoStore
    from rules.persistence import EventRecord, MemberChange

    store = DynamoStore()
    monkeypatch.setattr(store, "_connection", lambda: Recording())
    record = EventRecord("e1", "b1", "order.paid", T, (), ())
    naive = datetime(2026, 9, 1)
    for marker in (("coupons:keep", naive, {}, None), ("coupons:due:c1", naive, {}, naive),
                   ("coupons:due:c1", T, {}, naive), ("coupons:keep", "soon", {}, None),
                   (None, T, {}, None), ("coupons:keep", T, {"x": object()}, None)):
        errors = []
        for writer in ("new", "old"):
            if writer == "old":
                monkeypatch.setattr(dynamo_store, "_marker_item", _marker_item_as_before)
            try:
                store.commit_event(record, MemberChange(profile(), 1, markers=(marker,),
                                                        due_floor=T + timedelta(days=2)))
            except Exception as error:  # noqa: BLE001 - the error itself is compared
                errors.append((type(error), str(error)))
            else:
                errors.append(None)
            monkeypatch.undo()
            monkeypatch.setattr(store, "_connection", lambda: Recording())
        assert errors[0] == errors[1] and errors[0] is not None, (marker, errors)


def _marker_item_as_before(mpk, brand_id, member_id, key, at_, forget_after, data, due_at, due_floor):
    """The marker's model, as `commit_event` made it before `_marker_item`: the reference."""
    from infra.dynamo_store import _listed_at
    from infra.models import MarkerItem

    marker = MarkerItem(mpk, keys.marker_sk(key), key=key, at=at_, ttl=forget_after, data=data)
    if due_at is not None:
        listed = _listed_at(due_at, due_floor)
        marker.gsi1pk = keys.due_pk(listed, member_id)
        marker.gsi1sk = keys.due_sk(listed, "MARK", brand_id, member_id, key)
    return marker
