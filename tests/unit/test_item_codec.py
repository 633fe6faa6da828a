"""Items read from the table become the same pynamodb objects through the codec as through pynamodb's own path."""

from datetime import datetime, timezone

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


def pynamodb_way(raw):
    # pynamodb's own `Model.from_raw_data` (which SiyuItem overrides): `_instantiate`.
    return SiyuItem._instantiate(raw)


@pytest.mark.parametrize("written", ITEMS, ids=lambda item: type(item).__name__)
def test_an_item_read_back_is_the_object_pynamodb_would_build(written):
    raw = written.serialize()
    ours, theirs = item_codec.from_raw_data(SiyuItem, raw), pynamodb_way(raw)
    assert type(ours) is type(theirs) is type(written)
    assert ours.serialize() == theirs.serialize() == raw
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
