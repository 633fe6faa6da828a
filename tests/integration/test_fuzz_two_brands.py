"""schemathesis over every root field, as members and staff of two brands (and as nobody), each brand with a
member whose data the others must never see.

Whatever is sent: no 5xx, no INTERNAL, every error carries a documented code, and nothing of a brand's member comes
back to anyone of the other brand (nor to another member of the same brand, unless they sent that member's id).
IDs are drawn from both brands' members half of the time, so "asking about someone else" is tried everywhere.

The size is a setting: CI runs `SIYU_FUZZ_REQUESTS` (default 300) spread over the root fields; the full run the
README quotes is

    SIYU_FUZZ_REQUESTS=4500 .venv/bin/python -m pytest tests/integration/test_fuzz_two_brands.py -q -s

and prints its counts (requests, by caller, by status, by error code).
"""

from __future__ import annotations

import json
import math
import os
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.hardening import CODES
from tests.helpers import earn, new_phone, register, token
from tests.integration.test_fuzz import ALLOWED, INTERNALS, value_node
from tests.integration.test_tenancy_matrix import world  # noqa: F401

NOW = datetime.now(timezone.utc)
REQUESTS = int(os.environ.get("SIYU_FUZZ_REQUESTS", "300"))


def member_secrets(store, brand_id: str, member_id: str) -> dict[str, str]:
    state = store.load_member(brand_id, member_id)
    return {"member id": member_id, "masked phone": state.profile.phone_masked,
            "referral code": state.profile.referral_code,
            **{f"lot {lot.lot_id}": lot.lot_id for lot in state.points.lots},
            **{f"entry {e.entry_id}": e.entry_id for e in store.entries(brand_id, member_id)}}


@pytest.fixture
def two_brands(world, store):  # noqa: F811
    """The tenancy matrix's world (victim and attacker in brand A, staff of B) plus a victim and an attacker in B."""
    phone = new_phone()
    b_victim = register(store, world.other_brand, NOW - timedelta(days=20), phone=phone)
    earn(store, world.other_brand, b_victim, 6007, NOW - timedelta(days=2))
    b_attacker = register(store, world.other_brand, NOW - timedelta(days=1))
    a_secrets = {**world.secrets(), "member id": world.victim}
    b_secrets = {**member_secrets(store, world.other_brand, b_victim), "phone": phone}
    return world, b_victim, b_attacker, a_secrets, b_secrets


def register_scalars(ids: list[str], brands: list[str]) -> None:
    schemathesis.graphql.scalar("ID", st.one_of(st.sampled_from(ids), st.text(max_size=40))
                                .map(schemathesis.graphql.nodes.String))
    events = st.sampled_from([
        {"detail-type": "order.paid", "source": "siyu.fuzz", "id": f"fuzz-{uuid.uuid4().hex[:6]}",
         "detail": {"brandId": brand, "memberId": member, "orderId": "o1", "amountFen": 100, "channel": "h5"}}
        for brand in brands for member in ids])
    plain = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=3), max_leaves=6)
    schemathesis.graphql.scalar("JSON", st.one_of(events, plain).map(value_node))


@pytest.fixture
def fuzz_schema(two_brands):
    from api.app import app

    world, b_victim, b_attacker, _, _ = two_brands
    register_scalars([world.victim, world.attacker, b_victim, b_attacker],
                     [world.victim_brand, world.other_brand])
    try:
        yield schemathesis.graphql.from_asgi("/graphql", app)
    finally:
        from schemathesis.specs.graphql.scalars import CUSTOM_SCALARS

        CUSTOM_SCALARS.pop("ID", None)
        CUSTOM_SCALARS.pop("JSON", None)


def test_every_root_field_as_members_and_staff_of_two_brands(two_brands, fuzz_schema):
    world, b_victim, b_attacker, a_secrets, b_secrets = two_brands
    a, b = world.victim_brand, world.other_brand
    # Who calls, and whose data they must never get back.
    callers = {
        "nobody": ({}, {"A": a_secrets, "B": b_secrets}),
        "member A": ({"authorization": f"Bearer {token('member', world.attacker, a)}"},
                     {"A": a_secrets, "B": b_secrets}),
        "staff A": ({"authorization": f"Bearer {token('staff', 'fuzz-staff-a', a)}"}, {"B": b_secrets}),
        "member B": ({"authorization": f"Bearer {token('member', b_attacker, b)}"},
                     {"A": a_secrets, "B": b_secrets}),
        "staff B": ({"authorization": f"Bearer {token('staff', 'fuzz-staff-b', b)}"}, {"A": a_secrets}),
    }
    counts = {"requests": Counter(), "callers": Counter(), "status": Counter(), "codes": Counter()}
    problems: list[str] = []
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    per_root = max(4, math.ceil(REQUESTS / len(operations)))

    def check(response, caller: str, sent: str) -> None:
        counts["status"][response.status_code] += 1
        if response.status_code >= 500:
            problems.append(f"{caller}: {response.status_code} {response.text[:300]}")
            return
        body = response.json()
        answer = json.dumps(body, ensure_ascii=False)
        for error in body.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            counts["codes"][code] += 1
            if code not in CODES or code == "INTERNAL" or INTERNALS.search(ALLOWED.sub("", error["message"])):
                problems.append(f"{caller}: {error} for {sent[:300]}")
        for brand, secrets in callers[caller][1].items():
            for what, secret in secrets.items():
                if what == "member id" and secret in sent:
                    continue  # an id the caller sent may come back (e.g. in a not-found answer)
                if secret and secret in answer:
                    problems.append(f"{caller} got brand {brand}'s {what}: {answer[:300]} for {sent[:300]}")

    for operation in operations:  # each root field its own examples: none crowds out another
        @settings(max_examples=per_root, deadline=None, database=None, derandomize=True,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), caller=st.sampled_from(sorted(callers)))
        def fuzz(case, caller):
            response = case.call(headers=callers[caller][0])
            counts["requests"][case.operation.label] += 1
            counts["callers"][caller] += 1
            check(response, caller, json.dumps(case.body, ensure_ascii=False, default=str))

        fuzz()
    total = sum(counts["requests"].values())
    print(f"\nschemathesis, two brands: {total} requests over {len(counts['requests'])} root fields "
          f"({per_root} examples each at most)")
    for name in ("callers", "status", "codes"):
        print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in sorted(counts[name].items(), key=str)))
    print(f"  5xx: {sum(v for k, v in counts['status'].items() if k >= 500)}, INTERNAL: "
          f"{counts['codes'].get('INTERNAL', 0)}, cross-brand or cross-member data: {len(problems)}")
    assert problems == [], "\n".join(problems[:20])
    roots = len(fuzz_schema._get_operation_map("Query")) + len(fuzz_schema._get_operation_map("Mutation"))
    assert len(counts["requests"]) == roots, sorted(counts["requests"])
    assert total >= min(REQUESTS, roots * 4) * 0.9
