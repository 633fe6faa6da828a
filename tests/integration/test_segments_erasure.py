"""An erased member leaves every segment: `segmentMembers` never lists them and `segments { count }` is right after,
however often the erasure is repeated."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.consent import set_consent
from rules.engine import Engine
from tests.helpers import business_event, call_graphql, order_paid, register, token

T = datetime.now(timezone.utc) - timedelta(days=2)
SEGMENTS = "{ segments { code count } }"
MEMBERS_OF = """query($code: String!) { segmentMembers(code: $code, first: 50) { edges { node { memberId } } } }"""
ERASE = """mutation($id: ID!) { eraseMember(id: $id) { __typename ... on AccountErased { alreadyErased } } }"""


def staff(query, brand, variables=None):
    _, body = call_graphql(query, variables, token=token("staff", "ops", brand))
    assert "errors" not in body, body
    return body["data"]


def counts(brand) -> dict[str, int]:
    return {s["code"]: s["count"] for s in staff(SEGMENTS, brand)["segments"] if s["count"]}


def listed(brand, code) -> set[str]:
    return {e["node"]["memberId"] for e in staff(MEMBERS_OF, brand, {"code": code})["segmentMembers"]["edges"]}


def test_an_erased_member_leaves_every_segment_list_and_count(store, plugins, bus):
    brand = f"se{uuid.uuid4().hex[:8]}"
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER,
                                plugins={"segments": plugins.validate_params("segments", {})}))
    engine = Engine(store, plugins, bus)
    members = [register(store, brand, T) for _ in range(3)]
    for n, member in enumerate(members):
        set_consent(store, brand, member, purpose="behaviour_analytics", granted=True, policy_version="v1", now=T,
                    actor="member")
        event = business_event("order.paid", order_paid(brand, member, 20_000 * (n + 1), f"o{n}"), time=T)
        assert engine.handle(event).status == "applied"
    before = counts(brand)
    assert before["STAGE_NEW"] == 3 and listed(brand, "STAGE_NEW") == set(members)
    gone = members[1]
    erased_segments = {code for code in before if gone in listed(brand, code)}
    assert "STAGE_NEW" in erased_segments and len(erased_segments) >= 3  # stage, value layer, RFM group

    assert sum(store.spend_counts(brand).values()) == 3  # every buyer counts in the spend distribution
    assert staff(ERASE, brand, {"id": gone})["eraseMember"] == {"__typename": "AccountErased", "alreadyErased": False}
    assert sum(store.spend_counts(brand).values()) == 2
    after = counts(brand)
    assert after == {code: n - (code in erased_segments) for code, n in before.items()
                     if n - (code in erased_segments)}
    assert all(gone not in listed(brand, code) for code in before)
    assert listed(brand, "STAGE_NEW") == {members[0], members[2]}

    # Erasing again (a repeat request) takes nothing more off the counts.
    assert staff(ERASE, brand, {"id": gone})["eraseMember"]["alreadyErased"] is True
    assert counts(brand) == after and sum(store.spend_counts(brand).values()) == 2
