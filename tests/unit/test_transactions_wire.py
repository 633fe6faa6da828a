"""A transaction built item by item from per-class plans (`infra.transactions.Transaction.commit`) sends exactly what
pynamodb's `TransactWrite` sent for the same items: the same request dict, key order included, so botocore (or the
wire path) turns it into the same bytes."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import botocore.session
import pytest
from botocore.serialize import JSONSerializer
from pynamodb.exceptions import AttributeNullError
from pynamodb.transactions import TransactWrite

from infra import dynamo_wire, keys
from infra.dynamo_store import posting_writes
from infra.models import (ActivityItem, EntryItem, LotItem, MarkerGroupItem, MarkerItem, MemberItem, ProcessedItem,
                          SiyuItem)
from infra.transactions import Transaction, update_actions
from rules.ledger import Allocation, Entry, EntryKind, Lot, LotUpdate, Posting
from rules.members import MemberProfile

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
MODEL = botocore.session.get_session().get_service_model("dynamodb")


class Recording:
    """Stands where pynamodb's connection is: keeps what the transaction would send."""

    def __init__(self) -> None:
        self.sent: list[dict] = []

    def transact_write_items(self, **kwargs):
        self.sent.append(kwargs)
        return {}


def as_pynamodb_sent_it(tx: Transaction, connection) -> None:
    """The commit before the plans: every item through pynamodb's `TransactWrite`."""
    with TransactWrite(connection=connection) as write:
        for _, model, pk, sk, condition in tx._checks:
            write.condition_check(model, pk, sk, condition=condition)
        for _, item, condition in tx._deletes:
            write.delete(item, condition=condition)
        for _, item, condition, return_values in tx._puts:
            write.save(item, condition=condition, return_values=return_values)
        for _, item, actions, condition in tx._updates:
            write.update(item, actions=update_actions(item, actions), condition=condition)


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
