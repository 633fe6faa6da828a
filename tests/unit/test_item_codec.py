"""Items read from the table become the same pynamodb objects through the codec as through pynamodb's own path."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from infra import item_codec
from infra.models import (ActivityItem, AllocationMap, EntryItem, LotItem, MarkerGroupItem, MemberItem, SiyuItem)

T = datetime(2026, 3, 3, 2, 0, tzinfo=timezone.utc)

ITEMS = [
    MemberItem("M#b1#m1", "PROFILE", brand_id="b1", member_id="m1", channel="miniprogram", registered_at=T,
               tier_code="gold", tags={"vip", "老客"}, balance=120, version=7, nickname=None),
    LotItem("M#b1#m1", "LOT#1", brand_id="b1", member_id="m1", lot_id="l1", earned=300, remaining=120,
            earned_at=T, expires_at=T, source="points:order:o1", ttl=None),
    EntryItem("H#b1#m1", "ENTRY#1", entry_id="e1", at=T, entry_kind="earn", points=300,
              allocations=[AllocationMap(lot="l1", expires_at=T, points=300)], explanation={"rule": "earn"}),
    MarkerGroupItem("M#b1#m1", "~MARK#1", at=T, marks={"points:order:o1": [{"points": 120}, T.isoformat()]}),
    ActivityItem("H#b1#m1", "ACT#1", event_id="ev1", detail_type="order.paid", at=T,
                 packed=[{"effect": "AwardPoints", "points": 120, "why": "每消费1元积1分"}]),
]


def _sets_sorted(raw):
    # A string set's order on the wire is its Python set's iteration order, which a set rebuilt from a list need
    # not keep (hash randomisation): compare sets as sets.
    return {k: {"SS": sorted(v["SS"])} if "SS" in v else v for k, v in raw.items()}


def pynamodb_way(raw):
    # pynamodb's own `Model.from_raw_data` (which SiyuItem overrides): `_instantiate`.
    return SiyuItem._instantiate(raw)


@pytest.mark.parametrize("written", ITEMS, ids=lambda item: type(item).__name__)
def test_an_item_read_back_is_the_object_pynamodb_would_build(written):
    raw = written.serialize()
    ours, theirs = item_codec.from_raw_data(SiyuItem, raw), pynamodb_way(raw)
    assert type(ours) is type(theirs) is type(written)
    assert _sets_sorted(ours.serialize()) == _sets_sorted(theirs.serialize()) == _sets_sorted(raw)
    for name in type(written).get_attributes():
        mine, pynamodb = getattr(ours, name), getattr(theirs, name)
        if isinstance(pynamodb, list) and pynamodb and isinstance(pynamodb[0], AllocationMap):
            assert [m.as_dict() for m in mine] == [m.as_dict() for m in pynamodb]
        else:
            assert mine == pynamodb, name


def test_an_absent_attribute_takes_its_default_and_a_null_one_stays_unset():
    raw = MemberItem("M#b1#m1", "PROFILE", brand_id="b1", member_id="m1", channel="c", registered_at=T,
                     tier_code="silver").serialize()
    del raw["version"]
    raw["nickname"] = {"NULL": True}
    member = SiyuItem.from_raw_data(raw)
    assert member.version == 0 and member.nickname is None and member.balance == 0
    assert member.attribute_values == pynamodb_way(raw).attribute_values


def test_an_item_of_another_kind_than_the_one_asked_for_is_refused_as_pynamodb_refuses_it():
    raw = LotItem("M#b1#m1", "LOT#1", brand_id="b1", member_id="m1", lot_id="l1", earned=1, remaining=1,
                  earned_at=T, expires_at=T).serialize()
    with pytest.raises(ValueError):
        MemberItem.from_raw_data(raw)


class Recorded:
    """Stands where pynamodb's table connection's `query` is: keeps its arguments, answers one empty page."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        return {"Items": [], "Count": 0, "ScannedCount": 0}


@pytest.mark.parametrize("model, kwargs", [
    (SiyuItem, dict(range_key_condition=SiyuItem.sk < "~", filter_condition=~SiyuItem.sk.startswith("REQ#"),
                    consistent_read=True)),
    (SiyuItem, dict(filter_condition=None)),
    (LotItem, dict(range_key_condition=LotItem.sk.startswith("LOT#"), limit=5, scan_index_forward=False)),
    (SiyuItem, dict(index_name="byDue", range_key_condition=SiyuItem.gsi1sk.between("a", "b"), page_size=100,
                    limit=100, last_evaluated_key={"pk": {"S": "x"}})),
])
def test_a_query_asks_for_what_pynamodbs_query_asks_for(monkeypatch, model, kwargs):
    """The same connection call, and so the same request: the kinds' filter (`type IN (...)`) is only built once."""
    from pynamodb.models import Model

    ours, theirs = Recorded(), Recorded()
    connection = model._get_connection()
    monkeypatch.setattr(connection, "query", ours)
    list(model.query("M#b1#m1", **kwargs))
    list(model.query("M#b1#m1", **kwargs))  # the cached filter serialises the same the second time
    monkeypatch.setattr(connection, "query", theirs)
    list(Model.query.__func__(model, "M#b1#m1", **kwargs))
    assert len(ours.calls) == 2 and len(theirs.calls) == 1

    def serialised(call):
        args, kw = call
        names, values = {}, {}
        out = {name: value for name, value in kw.items() if not name.endswith("condition")}
        for name in ("range_key_condition", "filter_condition"):
            if kw.get(name) is not None:
                out[name] = kw[name].serialize(names, values)
        return args, out, names, values

    assert serialised(ours.calls[0]) == serialised(ours.calls[1]) == serialised(theirs.calls[0])


def every_item_class():
    import plugins  # noqa: F401 - the families' item classes register themselves
    from infra import family_storage

    family_storage.mixins()
    kinds = SiyuItem._get_discriminator_attribute()._class_map
    return sorted((cls for cls in kinds if issubclass(cls, SiyuItem)), key=lambda cls: cls.__name__)


def pynamodb_init(cls, *args, **kwargs):
    from pynamodb.models import Model

    item = object.__new__(cls)
    Model.__init__(item, *args, **kwargs)
    return item


def test_every_item_class_makes_the_same_new_object_as_pynamodb():
    classes = every_item_class()
    assert len(classes) > 20
    for cls in classes:
        for args, kwargs in [((), {}), (("M#b1#m1",), {}), (("M#b1#m1", "SK#1"), {}),
                             (("M#b1#m1", "SK#1"), {"ttl": T, "gsi1pk": None, "gsi1sk": "x"})]:
            ours, theirs = cls(*args, **dict(kwargs)), pynamodb_init(cls, *args, **dict(kwargs))
            assert ours.attribute_values == theirs.attribute_values, cls.__name__
            assert list(ours.attribute_values) == list(theirs.attribute_values), cls.__name__
            assert ours.serialize(null_check=False) == theirs.serialize(null_check=False)


@pytest.mark.parametrize("item, kwargs", [
    (MemberItem, dict(brand_id="b1", member_id="m1", balance=3, tags={"vip"}, version=0, registered_at=T)),
    (LotItem, dict(lot_id="l1", earned=300, remaining=120, earned_at=T, expires_at=T, ttl=None)),
    (EntryItem, dict(entry_id="e1", allocations=[AllocationMap(lot="l1", expires_at=T, points=3)])),
    (MarkerGroupItem, dict(at=T, marks={"k": [None, T.isoformat()]}, ttl=T)),
    (ActivityItem, dict(event_id="e", packed=[{"effect": "x"}])),
])
def test_a_new_item_with_values_is_pynamodbs(item, kwargs):
    ours, theirs = item("M#b1#m1", "SK#1", **kwargs), pynamodb_init(item, "M#b1#m1", "SK#1", **kwargs)
    assert ours.attribute_values == theirs.attribute_values
    assert ours.serialize(null_check=False) == theirs.serialize(null_check=False)


def test_an_unknown_attribute_is_refused_as_pynamodb_refuses_it():
    with pytest.raises(ValueError, match="Attribute colour specified does not exist"):
        LotItem("M#b1#m1", "SK#1", colour="red")
    with pytest.raises(ValueError, match="Attribute colour specified does not exist"):
        pynamodb_init(LotItem, "M#b1#m1", "SK#1", colour="red")


@pytest.mark.parametrize("text", ["0", "7", "120", "300000000000000000000", "-3", "1.5", "1E+2", "-0.25"])
def test_a_number_read_back_is_what_pynamodbs_number_attribute_makes_of_it(text):
    raw = LotItem("M#b1#m1", "LOT#1", brand_id="b1", member_id="m1", lot_id="l1", earned=1, remaining=1,
                  earned_at=T, expires_at=T).serialize()
    raw["remaining"] = {"N": text}
    ours, theirs = item_codec.from_raw_data(SiyuItem, raw), pynamodb_way(raw)
    assert ours.remaining == theirs.remaining and type(ours.remaining) is type(theirs.remaining)


def test_a_value_stored_as_another_type_is_refused_as_pynamodb_refuses_it():
    raw = LotItem("M#b1#m1", "LOT#1", brand_id="b1", member_id="m1", lot_id="l1", earned=1, remaining=1,
                  earned_at=T, expires_at=T).serialize()
    raw["lot_id"] = {"N": "1"}
    with pytest.raises(Exception) as ours:
        item_codec.from_raw_data(SiyuItem, raw)
    with pytest.raises(Exception) as theirs:
        pynamodb_way(raw)
    assert type(ours.value) is type(theirs.value) and str(ours.value) == str(theirs.value)


def _plain_member_filter(page, wanted_request, request_key):
    # The member Query's filter as `load_member` built it on every call before its fixed parts were kept.
    from infra import keys
    not_other_requests = (~SiyuItem.sk.startswith(keys.REQUEST_PREFIX)
                          & ~SiyuItem.sk.startswith(keys.LEGACY_REQUEST_PREFIX))
    if wanted_request:
        not_other_requests = (not_other_requests | (SiyuItem.sk == wanted_request)
                              | (SiyuItem.sk == keys.legacy_request_sk(request_key)))
    holding_lots = ~SiyuItem.sk.startswith(keys.LOT_PREFIX) | (LotItem.remaining > 0)
    return holding_lots & ~SiyuItem.sk.startswith(keys.LEGACY_REQUEST_PREFIX) if page \
        else not_other_requests & holding_lots


@pytest.mark.parametrize("page,request_key", [(False, None), (False, "r1"), (True, None)])
def test_the_member_querys_kept_filter_serialises_as_the_one_built_each_time(monkeypatch, page, request_key):
    from pynamodb.connection.base import Connection
    from infra import keys
    from infra.dynamo_store import DynamoStore

    sent = []
    monkeypatch.setattr(Connection, "dispatch", lambda self, operation, kwargs: sent.append((operation, kwargs))
                        or {"Items": [], "Count": 0, "ScannedCount": 0})
    for _ in range(2):  # the second load serialises from what the first kept
        DynamoStore.load_member(object.__new__(DynamoStore), "b1", "m1", request_key=request_key, as_of=T,
                                page=page)
    live = SiyuItem.ttl.does_not_exist() | (SiyuItem.ttl > T)
    wanted = keys.request_sk(request_key) if request_key else None
    plain = _plain_member_filter(page, wanted, request_key) & live
    # As pynamodb's own Query sends it, the filter built afresh (the kinds' filter is added by `SiyuItem.query`).
    list(SiyuItem.query(keys.member_pk("b1", "m1"), SiyuItem.sk < keys.PAGE_END if page else None,
                        filter_condition=plain, consistent_read=not page))
    assert len(sent) == 3
    assert [list(kw.items()) for _, kw in sent[:2]] == [list(sent[2][1].items())] * 2


@pytest.mark.parametrize("text", [
    "2026-03-01T02:00:00.000000+0000", "2026-11-10T22:21:00.123456+0000", "9999-12-31T23:59:59.999999+0000",
    "0001-01-01T00:00:00.000000+0000", "999-01-01T00:00:00.000000+0000",  # padded, as pynamodb pads old dates
    "2026-02-30T02:00:00.000000+0000", "2026-03-01T02:00:00.00000 +0000", "2026-03-01T02:00:00,000000+0000",
    "2026-03-01T02:00:00.000000+0800", "2026-03-01 02:00:00.000000+0000", "2026-03-01T02:00:00+0000", "",
    "2026-03-01T02:00:00.000000Z", "2026-03-01T02:00:00.000000+00:00", "٢٠٢٦-03-01T02:00:00.000000+0000",
    # Each separator out of place once (the form is checked in one slice).
    "2026/03-01T02:00:00.000000+0000", "2026-03/01T02:00:00.000000+0000", "2026-03-01x02:00:00.000000+0000",
    "2026-03-01T02-00:00.000000+0000", "2026-03-01T02:00-00.000000+0000", "2026-03-01T02:00:00:000000+0000",
    "2026-03-01T02:00:00.000000-0000", "20260-3-01T02:00:00.000000+0000", " 2026-03-01T02:00:00.00000+0000",
])
def test_a_date_reads_as_pynamodb_reads_it_or_is_refused_as_pynamodb_refuses_it(text):
    from pynamodb.attributes import UTCDateTimeAttribute

    try:
        theirs = UTCDateTimeAttribute().deserialize(text)
    except ValueError as refused:
        with pytest.raises(ValueError) as ours:
            item_codec.parse_utc(text)
        assert str(ours.value) == str(refused)
    else:
        ours = item_codec.parse_utc(text)
        assert ours == theirs and ours.tzinfo is theirs.tzinfo and ours.utcoffset() == theirs.utcoffset()


@pytest.mark.parametrize("as_of", [
    datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc), datetime(2026, 3, 1, 2, 0, 0, 999999, tzinfo=timezone.utc),
    datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc), datetime(1, 1, 1, tzinfo=timezone.utc),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone.utc),
    datetime(2026, 3, 1, 10, 0, 0, 1, tzinfo=timezone(timedelta(hours=8))),
    datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
])
def test_a_ttl_cut_off_is_written_as_the_ttl_attribute_writes_it(as_of):
    from infra import member_read

    try:
        theirs = SiyuItem.ttl.serialize(as_of)
    except (ValueError, OverflowError, OSError) as refused:
        with pytest.raises(type(refused)):
            member_read.cut_off(as_of)
    else:
        assert member_read.cut_off(as_of) == theirs


def test_a_naive_cut_off_is_refused_as_the_ttl_attribute_refuses_it():
    from infra import member_read

    with pytest.raises(ValueError, match="timezone-aware"):
        member_read.cut_off(datetime(2026, 3, 1))


@pytest.mark.parametrize("text", ["0", "1767225600", "1767225600.5", "-86400", "007", "1e3", "", "later",
                                  "99999999999999999999", "١٢٣"])
def test_a_ttl_reads_as_the_ttl_attribute_reads_it_or_is_refused_as_it_refuses_it(text):
    from pynamodb.attributes import TTLAttribute

    try:
        theirs = TTLAttribute().deserialize(text)
    except Exception as refused:  # noqa: BLE001 - whatever it raises, ours raises the same
        with pytest.raises(type(refused)) as ours:
            item_codec.ttl(text)
        assert str(ours.value) == str(refused)
    else:
        ours = item_codec.ttl(text)
        assert ours == theirs and ours.tzinfo is theirs.tzinfo


_NUMBERS = ["0", "7", "120", "300000000000000000000", "007", "-3", "1.5", "1E+2", "١٢", " 5"]
_DATES = ["2026-03-01T02:00:00.000000+0000", "2026-02-30T02:00:00.000000+0000", "2026-03-01 02:00:00.000000+0000",
          "2026-03-01T02:00:00+0000", "٢٠٢٦-03-01T02:00:00.000000+0000", "2026-03-01T02:00:00.000000+0800",
          "2026-03-01T02:00:00.000000+00:00"]


@pytest.mark.parametrize("field,text", [(f, n) for f in ("earned", "remaining") for n in _NUMBERS]
                         + [(f, d) for f in ("earned_at", "expires_at") for d in _DATES])
def test_a_lot_read_from_the_wire_is_the_lot_its_model_gives_or_goes_the_models_way(field, text):
    from infra import dynamo_store, member_read

    raw = LotItem("M#b1#m1", "LOT#1", brand_id="b1", member_id="m1", lot_id="l1", earned=9, remaining=9,
                  earned_at=T, expires_at=T, source="points:order:o1", gsi1pk="DUE#x").serialize()
    raw[field] = {"N" if field in ("earned", "remaining") else "S": text}
    ours = member_read.lot(raw)
    try:
        theirs = dynamo_store._lot_from_item(pynamodb_way(raw))
    except Exception:  # noqa: BLE001 - the model refuses it: so must the wire's way, which leaves it to the model
        assert ours is None
        return
    if text in ("0", "7", "120", "300000000000000000000", "2026-03-01T02:00:00.000000+0000"):
        assert ours is not None  # the common forms are read from the wire
    if ours is not None:
        assert ours == theirs and [type(v) for v in vars(ours).values()] == [type(v) for v in vars(theirs).values()]
        assert ours.earned_at.tzinfo is theirs.earned_at.tzinfo and ours.expires_at.tzinfo is theirs.expires_at.tzinfo



def test_a_filled_dataclass_is_the_instance_its_init_makes_and_others_are_made_by_their_init():
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Plain:
        a: int
        b: str = "x"
        c: tuple = ()

    @dataclasses.dataclass(frozen=True)
    class Checked:
        a: int
        b: str = "x"

        def __post_init__(self):
            object.__setattr__(self, "b", self.b.upper())

    @dataclasses.dataclass(frozen=True, init=False)
    class OwnInit:
        a: int
        b: str

        def __init__(self, a, b):
            object.__setattr__(self, "a", a * 2)
            object.__setattr__(self, "b", b)

    for cls in (Plain, Checked, OwnInit):
        names = tuple(f.name for f in dataclasses.fields(cls))
        values = (1, "y", (2,))[:len(names)]
        ours, theirs = item_codec.filler(cls, names)(values), cls(*values)
        assert ours == theirs and list(vars(ours).items()) == list(vars(theirs).items())
    # Names in another order than the fields': given by name.
    assert item_codec.filler(Plain, ("c", "a", "b"))(((3,), 1, "z")) == Plain(1, "z", (3,))


def test_the_member_loads_dataclasses_are_filled():
    """The classes a member load fills are plain enough to be (else the fill would fall back, and cost again)."""
    from infra import dynamo_store
    from rules.ledger import PointsState
    from rules.members import MemberProfile, MemberState

    for maker, cls in ((dynamo_store._new_profile, MemberProfile), (dynamo_store._new_points, PointsState),
                       (dynamo_store._new_state, MemberState)):
        assert maker.__name__ == "fill", cls


_MARK = {"pk": {"S": "M#b1#m1"}, "sk": {"S": "MARK#tiers:gift:YIN"}, "at": {"S": "2026-11-01T03:39:00.000000+0000"},
         "key": {"S": "tiers:gift:YIN"}, "type": {"S": "marker"}, "ttl": {"N": "2108864340"}}


@pytest.mark.parametrize("change", [
    {}, {"data": {"S": '{"points": 3, "at": "x"}'}}, {"data": {"NULL": True}}, {"data": {"S": "null"}},
    {"data": {"S": "{}"}}, {"data": {"S": "[1, 2]"}}, {"data": {"S": "{not json"}}, {"data": {"N": "1"}},
    {"ttl": None}, {"ttl": {"NULL": True}}, {"ttl": {"N": "1.5"}}, {"ttl": {"N": "later"}},
    {"ttl": {"N": "99999999999999999999"}}, {"ttl": {"N": "0"}}, {"ttl": {"N": "05"}}, {"ttl": {"N": "00"}},
    {"ttl": {"N": "9999999999"}}, {"ttl": {"N": "10000000000"}}, {"ttl": {"N": "253402300800"}},
    {"ttl": {"N": "-1"}}, {"ttl": {"N": ""}}, {"ttl": {"N": "\u0661\u0662"}}, {"ttl": {"N": "\u00b2"}},
    {"ttl": {"N": "1e3"}}, {"ttl": {"N": " 12"}}, {"ttl": {"N": "1_000"}}, {"ttl": {"N": 12}}, {"ttl": {"S": "12"}},
    {"at": None}, {"at": {"S": "2026-13-01T03:39:00.000000+0000"}},
    {"at": {"S": "2026-11-01 03:39:00.000000+0000"}}, {"at": {"NULL": True}}, {"key": None}, {"key": {"NULL": True}},
    {"key": {"N": "1"}}, {"gsi1pk": {"S": "DUE#x"}}, {"gsi1pk": {"N": "1"}}, {"colour": {"S": "red"}},
])
def test_a_marker_read_from_the_wire_is_what_its_model_gives_or_goes_the_models_way(change):
    from infra import member_read
    from infra.models import MarkerItem

    raw = dict(_MARK)
    for name, value in change.items():
        if value is None:
            del raw[name]
        else:
            raw[name] = value
    ours = member_read.marker(raw)
    try:
        v = item_codec.made(MarkerItem, raw).attribute_values.get
        theirs = (v("sk"), v("key"), v("data") or {})
    except Exception:  # noqa: BLE001 - the model refuses it: the wire's way leaves it to the model
        assert ours is None
        return
    if not change or "data" in change and "S" in change["data"] and change["data"]["S"] != "{not json":
        assert ours is not None  # the store's own shapes are read from the wire
    assert ours is None or tuple(ours) == theirs
