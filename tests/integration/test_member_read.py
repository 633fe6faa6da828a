"""A member's load read from the wire (infra/member_read.py) sends the requests pynamodb's path sent and returns the
member pynamodb's path returned: for members whose partitions the engine filled with every kind of item the state
range holds, for every way a member is loaded, at times before and after their markers and records expire.

`reference_load_member` is `DynamoStore.load_member` as it was before (issue 15): `SiyuItem.query` with the
conditions built per call, every item made a model object.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import MappingProxyType

import pytest
from botocore.exceptions import ClientError
from pynamodb.connection.base import Connection

from infra import daily_totals, dynamo_store as ds, family_storage, keys
from infra.models import (ConsentItem, LotItem, MarkerGroupItem, MarkerItem, MemberItem, OrderItem, RequestItem,
                          SiyuItem)
from rules import erasure
from rules.ledger import Lot, PointsState
from rules.members import MemberState
from rules.persistence import Marks
from tests.helpers import register
from tests.interleave import NOW, fresh_world

CONSENT = """mutation { setConsent(input: {purpose: MARKETING_MESSAGES, granted: true, policyVersion: "2026-01"}) {
  __typename } }"""


def reference_load_member(brand_id, member_id, *, request_key=None, as_of=None, include_erased=False, page=False,
                          marks=None):
    wanted_request = keys.request_sk(request_key) if request_key else None
    mpk = keys.member_pk(brand_id, member_id)
    not_other_requests, holding_lots, page_filter, state_filter = ds._filters()
    if wanted_request:
        not_other_requests = (not_other_requests | (SiyuItem.sk == wanted_request)
                              | (SiyuItem.sk == keys.legacy_request_sk(request_key)))
    condition = page_filter if page else \
        not_other_requests & holding_lots if wanted_request else state_filter
    live = None
    if as_of is not None:
        live = SiyuItem.ttl.does_not_exist() | (SiyuItem.ttl > as_of)
        condition &= live
    below_page = page or marks is not None
    end = keys.PAGE_END if page else keys.STATE_END
    items = list(SiyuItem.query(mpk, SiyuItem.sk < end if below_page else None,
                                filter_condition=condition, consistent_read=not page))
    lpk = keys.ledger_pk(brand_id, member_id)
    if marks is not None and not page:
        if wanted_request:
            try:
                record = RequestItem.get(mpk, wanted_request, consistent_read=True)
                if as_of is None or record.ttl is None or record.ttl > as_of:
                    items.append(record)
            except RequestItem.DoesNotExist:
                pass
        if marks.order is not None and not marks.opens:
            try:
                items.append(OrderItem.get(lpk, keys.order_sk(keys.order_ref(marks.order)), consistent_read=True))
            except OrderItem.DoesNotExist:
                pass
        if marks.visits:
            items += SiyuItem.query(mpk, SiyuItem.sk.startswith(keys.VISIT_MARKS), filter_condition=live,
                                    consistent_read=True)
    elif not page:
        named = sorted({o for o in (keys.due_marker_order(i.sk) for i in items if isinstance(i, MarkerItem))
                        if o is not None})
        if named:
            items += OrderItem.batch_get([(lpk, keys.order_sk(o)) for o in named], consistent_read=True)
    profile = None
    lots, markers, consents, request, holdings, orders, daily = [], {}, [], None, {}, {}, {}
    readers = family_storage.holdings()
    for item in items:
        reader = readers.get(type(item))
        if reader is not None:
            holdings.setdefault(reader[0], []).append(REFERENCE_READERS.get(type(item), reader[1])(item))
        elif isinstance(item, MemberItem):
            profile = item
        elif isinstance(item, LotItem):
            v = item.attribute_values.get
            lots.append(Lot(v("lot_id"), int(v("earned")), int(v("remaining")), v("earned_at"), v("expires_at"),
                            v("source"), v("gsi1pk") is not None))
        elif isinstance(item, RequestItem):
            request = ds._request_from_item(item)
        elif isinstance(item, MarkerItem):
            markers[item.key] = item.data or {}
        elif isinstance(item, MarkerGroupItem):
            for key, (data, forget_after) in item.marks.items():
                if as_of is None or datetime.fromisoformat(forget_after) > as_of:
                    markers[key] = data or {}
        elif isinstance(item, OrderItem):
            ds._read_order(item, as_of, markers, orders)
        elif isinstance(item, ConsentItem):
            consents.append(ds._consent_from_item(item))
        elif isinstance(item, daily_totals.DailyTotalsItem):
            daily_totals.absorb(daily, item)
    if profile is None or (profile.erased_at is not None and not include_erased):
        return None
    v = profile.attribute_values.get
    return MemberState(
        profile=reference_profile(profile),
        points=PointsState(balance=int(v("balance")), lots=tuple(lots), debt=int(v("debt") or 0)),
        request=request, version=int(v("version")), markers=MappingProxyType(markers), consents=tuple(consents),
        holdings=MappingProxyType({family: tuple(items) for family, items in holdings.items()}),
        totals=MappingProxyType(dict(v("totals") or {})), orders=MappingProxyType(orders),
        daily=MappingProxyType(daily))


def reference_profile(item):
    """`_profile_from_item` as it was: the profile made by its dataclass's own `__init__`."""
    from rules.members import MemberProfile

    v = item.attribute_values.get
    return MemberProfile(
        brand_id=v("brand_id"), member_id=v("member_id"), phone_hash=v("phone_hash"),
        phone_masked=v("phone_masked"), channel=v("channel"), referral_code=v("referral_code") or "",
        registered_at=v("registered_at"), tier_code=v("tier_code"), tier_valid_until=v("tier_valid_until"),
        growth=int(v("growth")), openid_hash=v("openid_hash"), unionid_hash=v("unionid_hash"),
        referred_by_code=v("referred_by_code"), paid_until=v("paid_until"), birthday=v("birthday"),
        tags=tuple(sorted(v("tags") or ())), nickname=v("nickname"), erased_at=v("erased_at"),
    )


def reference_coupon(item):
    """plugins/coupons/storage.py's `_coupon` as it was: the coupon made by its dataclass's own `__init__`."""
    from plugins.coupons.model import Coupon

    return Coupon(
        coupon_id=item.coupon_id, template_id=item.template_id, name=item.name, kind=item.coupon_kind,
        issued_at=item.issued_at, valid_from=item.valid_from, valid_until=item.valid_until, source=item.source,
        reason=item.reason, threshold_fen=int(item.threshold_fen), amount_fen=int(item.amount_fen),
        discount_percent=int(item.discount_percent), gift=item.gift, status=item.status, used_at=item.used_at,
        order_id=item.order_id)


def _reference_readers():
    from plugins.coupons.storage import CouponItem

    return {CouponItem: reference_coupon}


REFERENCE_READERS = _reference_readers()


@pytest.fixture(scope="module")
def world(dynamodb_endpoint):
    """A brand with every family (rolling tiers: daily totals), and members whose partitions hold every kind."""
    with fresh_world(("inviter", "spender", "quiet", "gone"), tiers={"policy": "rolling12"}) as w:
        start = NOW - timedelta(days=30)
        inviter = w.store.load_member(w.brand, w.members["inviter"]).profile
        w.members["invitee"] = register(w.store, w.brand, start)
        w.send("member.registered", {"memberId": w.members["invitee"], "channel": "miniprogram",
                                     "referralCode": inviter.referral_code}, start, "joined")
        for k, role in enumerate(("inviter", "spender", "invitee", "gone")):
            for n in range(4):
                w.order(role, f"{role}-o{n}", 180 + 70 * n, start + timedelta(days=n, hours=k))
        # A refund that takes back more than is left: debt; a partial redemption: a partly spent lot and a
        # request record; a check-in: a visit marker; a claimed coupon and its count; a consent.
        w.redeem("spender", 200, "spend-1")
        left = w.store.load_member(w.brand, w.members["spender"]).points.balance
        w.redeem("spender", left - 100, "spend-2")
        w.refund("spender", "spender-o3", 390, start + timedelta(days=5), "r1")
        w.check_in("spender")
        w.claim("spender", "limited-1")
        w.graphql("spender", CONSENT)
        w.refund("invitee", "invitee-o1", 100, start + timedelta(days=6), "r2")
        w.redeem("invitee", 100, "partly")
        w.sweep(NOW + timedelta(days=1))
        gone = w.store.load_member(w.brand, w.members["gone"])
        plan = erasure.erase(w.store, w.brand, w.members["gone"], now=NOW, actor="staff:s1")
        assert plan is not None and gone is not None
        yield w


def requests_of(load):
    """(the requests `load()` sent, in order and byte for byte as botocore serialises them, what it returned)."""
    sent = []
    real = Connection.dispatch

    def capture(self, operation, kwargs):
        sent.append((operation, json.dumps(kwargs)))
        return real(self, operation, kwargs)

    Connection.dispatch = capture
    try:
        return sent, load()
    finally:
        Connection.dispatch = real


def made_alike(ours, theirs):
    """Beyond `==`: the same classes and the same fields in the same order and of the same types, for what the
    reads decode (lots, holdings, markers, the profile)."""
    if ours is None or theirs is None:
        return ours is theirs

    def shape(value):
        if isinstance(value, (MappingProxyType, dict)):
            return [(k, shape(v)) for k, v in value.items()]
        if isinstance(value, (tuple, list)):
            return [shape(v) for v in value]
        if hasattr(value, "__dataclass_fields__"):
            return (type(value), [(k, shape(v)) for k, v in vars(value).items()])
        return (type(value), value, getattr(value, "tzinfo", None))

    return shape(ours) == shape(theirs)


WAYS = [
    {},  # a whole load (a sweep)
    {"page": True},
    {"page": True, "request_key": "spend-1"},
    {"marks": Marks(order="spender-o3")},
    {"marks": Marks(order="spender-o9", opens=True)},
    {"marks": Marks(order="invitee-o1#r2")},
    {"marks": Marks(visits=True)},
    {"marks": Marks()},
    {"marks": Marks(), "request_key": "spend-1"},
    {"request_key": "spend-1"},
    {"marks": Marks(), "request_key": "never-sent"},
]
WHEN = [None, NOW - timedelta(days=40), NOW, NOW + timedelta(days=200), NOW + timedelta(days=2000)]


@pytest.mark.parametrize("way", WAYS, ids=lambda w: ",".join(f"{k}={v}" for k, v in w.items()) or "whole")
def test_every_load_of_every_member_sends_the_same_requests_and_reads_the_same_member(world, way):
    compared = 0
    for role, member in world.members.items():
        for as_of in WHEN:
            for include_erased in (False, True):
                kw = dict(way, as_of=as_of, include_erased=include_erased)
                ours = requests_of(lambda: world.store.load_member(world.brand, member, **kw))
                theirs = requests_of(lambda: reference_load_member(world.brand, member, **kw))
                assert ours == theirs, (role, kw)
                assert made_alike(ours[1], theirs[1]), (role, kw)
                compared += ours[1] is not None
    assert compared > 0


def test_the_members_hold_every_kind_the_state_range_holds(world):
    """What the comparison above covers (so that it cannot pass on members too plain to tell the paths apart)."""
    spender = world.store.load_member(world.brand, world.members["spender"], request_key="spend-1", marks=Marks(),
                                      as_of=NOW)
    assert spender.points.debt > 0 and spender.request is not None and spender.consents
    assert spender.holdings["coupons"] and spender.daily and spender.markers and spender.totals is not None
    lots = [lot for member in world.members.values()
            for lot in (world.store.load_member(world.brand, member, include_erased=True).points.lots)]
    assert any(lot.remaining < lot.earned for lot in lots) and any(lot.listed for lot in lots)
    assert any(lot.source for lot in lots) and any(not lot.listed for lot in lots)
    inviter = world.store.load_member(world.brand, world.members["inviter"])
    assert inviter.holdings.get("referrals") and inviter.orders is not None
    assert world.store.load_member(world.brand, world.members["gone"]) is None
    assert world.store.load_member(world.brand, world.members["gone"], include_erased=True).profile.erased_at
    kinds = {raw["type"]["S"] for member in world.members.values()
             for raw in ds._query_partition(__import__("infra.db", fromlist=["client"]).client(),
                                            keys.member_pk(world.brand, member))}
    assert {"member", "lot", "marker", "marks", "coupon", "coupon_count", "consent", "request"} <= kinds, kinds


def test_a_partition_read_in_pages_is_read_whole_the_same_way(world, monkeypatch):
    """DynamoDB answers at most 1 MB per page: each page's request starts where the last one stopped."""
    real = Connection.dispatch

    def small_pages(self, operation, kwargs):
        answer = real(self, operation, kwargs)
        if operation == "Query" and len(answer.get("Items", ())) > 2:
            last = answer["Items"][1]
            answer = dict(answer, Items=answer["Items"][:2], Count=2,
                          LastEvaluatedKey={"pk": last["pk"], "sk": last["sk"]})
        return answer

    monkeypatch.setattr(Connection, "dispatch", small_pages)
    for way in ({}, {"marks": Marks()}, {"page": True}):
        member = world.members["inviter"]  # ten items and more: four pages and more
        ours = requests_of(lambda: world.store.load_member(world.brand, member, as_of=NOW, **way))
        theirs = requests_of(lambda: reference_load_member(world.brand, member, as_of=NOW, **way))
        assert ours == theirs
        assert sum('"ExclusiveStartKey"' in body for _, body in ours[0]) >= 3


def test_a_query_that_fails_fails_as_pynamodb_made_it_fail(world, monkeypatch):
    from pynamodb.exceptions import QueryError

    def throttled(self, operation, kwargs):
        raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow down"}},
                          operation)

    monkeypatch.setattr(Connection, "_make_api_call", throttled)
    member = world.members["spender"]
    with pytest.raises(QueryError) as theirs:
        reference_load_member(world.brand, member, as_of=NOW, marks=Marks())
    from infra import member_read

    with pytest.raises(QueryError) as ours:
        member_read.query((False, True), lambda r, a: ds._member_conditions(False, True, r, a),
                          keys.member_pk(world.brand, member), as_of=NOW, consistent_read=True)
    assert str(ours.value) == str(theirs.value) and type(ours.value.cause) is type(theirs.value.cause)
    with pytest.raises(Exception) as through_the_store:
        world.store.load_member(world.brand, member, as_of=NOW, marks=Marks())
    assert type(through_the_store.value).__name__ in ("StoreUnavailable", "Busy")
