"""Keys made without regular expressions or strftime are the keys the old code made."""

import re
from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from infra import keys


@settings(max_examples=500, deadline=None)
@given(order_id=st.one_of(st.text(alphabet="ab#:1-_订单", max_size=12), st.integers()))
def test_an_orders_markers_are_filed_under_its_id_up_to_the_first_hash_or_colon(order_id):
    assert keys.order_ref(order_id) == re.split(r"[#:]", str(order_id), maxsplit=1)[0]


@settings(max_examples=500, deadline=None)
@given(at=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                       timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                                  timezone(timedelta(hours=-5))])),
       shard=st.integers(0, 3))
def test_what_falls_due_on_a_utc_day_is_keyed_by_that_day(at, shard):
    assert keys.due_pk_for_shard(at, shard) == \
        f"DUE#{at.astimezone(timezone.utc).strftime('%Y-%m-%d')}#{shard}"


def test_a_day_in_beijing_after_4_pm_utc_is_filed_under_the_utc_day():
    assert keys.due_pk_for_shard(datetime(2027, 3, 2, 7, 0, tzinfo=timezone(timedelta(hours=8))), 2) == \
        "DUE#2027-03-01#2"
