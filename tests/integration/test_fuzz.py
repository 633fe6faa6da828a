"""Fuzzing the GraphQL API with schemathesis: queries and mutations generated from the introspected schema, sent
to the ASGI app as nobody, as a member of the victim's brand and as staff of another brand.

Whatever is sent: no 500, every error has a documented code and no Python internals in its message, nothing of
the victim member or brand comes back, and nothing of theirs is written. IDs are drawn from the victim's own ids
half of the time, so "asking about someone else" is tried on every field that takes one. Bounded: a fixed number
of derandomized examples (well under a minute on the CI machine).
"""

from __future__ import annotations

import json
import re

import graphql
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from api.hardening import CODES
from tests.helpers import token
from tests.integration.test_tenancy_matrix import VICTIM_GROWTH, VICTIM_POINTS, victim_state, world  # noqa: F401

EXAMPLES_PER_ROOT = 16  # each root field its own share (this began as 400 shared by 24 fields)
# What Python internals look like in a message: a traceback, a file, an exception class, a library's name.
INTERNALS = re.compile(r"Traceback|File \"|\.py\b|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|NoneType|botocore|pynamodb|"
                       r"object has no attribute|unsupported operand|invalid literal")
# graphql-core's own wording for a bad request is fine to show ("Syntax Error: ...", "GraphQLError" never appears).
ALLOWED = re.compile(r"Syntax Error")


def value_node(value) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal (the JSON scalar's input)."""
    if value is None:
        return graphql.NullValueNode()
    if isinstance(value, bool):
        return graphql.BooleanValueNode(value=value)
    if isinstance(value, int):
        return graphql.IntValueNode(value=str(value))
    if isinstance(value, str):
        return graphql.StringValueNode(value=value)
    if isinstance(value, list):
        return graphql.ListValueNode(values=tuple(value_node(v) for v in value))
    return graphql.ObjectValueNode(fields=tuple(
        graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=value_node(v)) for k, v in value.items()))


def register_scalars(world) -> None:
    victim_ids = [world.victim, world.victim_brand, world.attacker]
    schemathesis.graphql.scalar("ID", st.one_of(st.sampled_from(victim_ids), st.text(max_size=40))
                                .map(schemathesis.graphql.nodes.String))
    events = st.sampled_from([
        {"detail-type": "order.paid", "source": "siyu.fuzz", "id": "fuzz-1",
         "detail": {"brandId": world.victim_brand, "memberId": world.victim, "orderId": "o1", "amountFen": 100,
                    "channel": "miniprogram"}},
        {"detail-type": "member.checked_in", "detail": {"brandId": world.other_brand, "memberId": world.victim}},
        {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}},
    ])
    plain = st.recursive(st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=12),
                         lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                     max_size=3), max_leaves=6)
    schemathesis.graphql.scalar("JSON", st.one_of(events, plain).map(value_node))


def check(response, world, secrets: dict[str, str], sent: str) -> None:
    assert response.status_code < 500, response.text
    if response.status_code != 200:
        # strawberry refuses what is not a GraphQL request at all (400): plain text, nothing internal in it.
        assert not INTERNALS.search(response.text), response.text
        return
    body = response.json()
    answer = json.dumps(body, ensure_ascii=False)
    for error in body.get("errors") or []:
        message = error.get("message", "")
        assert (error.get("extensions") or {}).get("code") in CODES, error
        assert not INTERNALS.search(ALLOWED.sub("", message)), error
    for what, secret in secrets.items():
        assert not secret or secret not in answer, f"the victim's {what} came back: {answer[:500]}"
    if world.victim not in sent:
        assert world.victim not in answer, answer[:500]
    assert not re.search(rf'"balance": {VICTIM_POINTS}\b|"growth": {VICTIM_GROWTH}\b', answer), answer[:500]


@pytest.fixture
def fuzz_schema(world):
    from api.app import app

    register_scalars(world)
    try:
        yield schemathesis.graphql.from_asgi("/graphql", app)
    finally:
        from schemathesis.specs.graphql.scalars import CUSTOM_SCALARS

        CUSTOM_SCALARS.pop("ID", None)
        CUSTOM_SCALARS.pop("JSON", None)


def test_fuzzed_requests_never_fail_unmasked_or_cross_a_tenant(world, fuzz_schema):  # noqa: F811
    secrets = world.secrets()
    before = victim_state(world)
    callers = {"nobody": {},
               "member": {"authorization": f"Bearer {token('member', world.attacker, world.victim_brand)}"},
               "other staff": {"authorization": f"Bearer {token('staff', 'fuzz-staff', world.other_brand)}"}}
    seen: dict[str, int] = {}
    operations = [result.ok() for result in fuzz_schema.get_all_operations()]
    for operation in operations:  # each root field its own examples: a new field never crowds out another
        @settings(max_examples=EXAMPLES_PER_ROOT, deadline=None, database=None, derandomize=True,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(), caller=st.sampled_from(sorted(callers)))
        def fuzz(case, caller):
            response = case.call(headers=callers[caller])
            seen[case.operation.label] = seen.get(case.operation.label, 0) + 1
            check(response, world, secrets, json.dumps(case.body, ensure_ascii=False, default=str))

        fuzz()
    assert victim_state(world) == before, "a fuzzed request wrote something of the victim's"
    # Every root field was tried, each within its budget of examples (a count: a wall-clock limit failed this test
    # on a loaded machine, and timings are never a condition of a test here).
    roots = len(fuzz_schema._get_operation_map("Query")) + len(fuzz_schema._get_operation_map("Mutation"))
    assert len(operations) == len(seen) == roots, " ".join(sorted(seen))
    assert max(seen.values()) <= EXAMPLES_PER_ROOT, seen
