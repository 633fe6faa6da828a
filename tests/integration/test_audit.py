"""The audit log: every staff mutation in the schema, present or future, leaves a record before it runs and one of
how it ended; nothing changes one."""

from datetime import datetime, timezone

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLUnionType,
    Undefined,
)
from pynamodb.exceptions import PutError

from api.audit_trail import is_audited
from api.permissions import IsStaff
from api.schema import schema
from rules import audit
from tests.helpers import call_graphql, error_codes, register, token

NOW = datetime.now(timezone.utc)
AUDIT_LOG = """query($first: Int!, $after: String) { auditLog(first: $first, after: $after) {
  edges { cursor node { id callId at staffId mutation arguments outcome detail } }
  pageInfo { hasNextPage endCursor } } }"""
BACKREF = "strawberry-definition"


def staff_mutations():
    """(GraphQL name, field) for every mutation in the served schema that only staff may call."""
    found = []
    for name, field in schema._schema.mutation_type.fields.items():
        definition = field.extensions[BACKREF]
        if any(issubclass(p, IsStaff) for p in definition.permission_classes):
            found.append((name, field))
    return found


STAFF_MUTATIONS = staff_mutations()


def sample(type_, member_id):
    """A value of a GraphQL input type: required fields only, the member's id wherever an ID goes."""
    if isinstance(type_, GraphQLNonNull):
        return sample(type_.of_type, member_id)
    if isinstance(type_, GraphQLList):
        return [sample(type_.of_type, member_id)]
    if isinstance(type_, GraphQLInputObjectType):
        return {name: sample(f.type, member_id) for name, f in type_.fields.items()
                if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined}
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    return {"ID": member_id, "String": "x", "Int": 1, "Float": 1.0, "Boolean": True, "JSON": {},
            "DateTime": NOW.isoformat()}[type_.name]


def call_of(name, field, member_id):
    """The mutation as a document with variables, built from its arguments in the schema."""
    arguments = {arg: sample(a.type, member_id) for arg, a in field.args.items()
                 if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined}
    declared = ", ".join(f"${arg}: {field.args[arg].type}" for arg in arguments)
    passed = ", ".join(f"{arg}: ${arg}" for arg in arguments)
    returned = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
    selection = " { __typename }" if isinstance(returned, (GraphQLObjectType, GraphQLUnionType)) else ""
    document = (f"mutation{f'({declared})' if declared else ''} "
                f"{{ {name}{f'({passed})' if passed else ''}{selection} }}")
    return document, arguments


def newest(brand, first=1):
    """The newest `first` outcomes (each call's `started` record left aside)."""
    _, body = call_graphql(AUDIT_LOG, {"first": 2 * first}, token("staff", "auditor", brand))
    return [edge["node"] for edge in body["data"]["auditLog"]["edges"] if edge["node"]["outcome"] != "started"]


def test_the_matrix_covers_the_staff_mutations_we_know_of():
    names = {name for name, _ in STAFF_MUTATIONS}
    assert {"registerMember", "adjustPoints", "reversePointsEntry", "configureBrand", "simulateEvent",
            "eraseMember"} <= names
    assert all(is_audited(field.extensions[BACKREF]) for _, field in STAFF_MUTATIONS)
    members_own = {name for name, f in schema._schema.mutation_type.fields.items() if name not in names}
    assert "redeemPoints" in members_own and not any(is_audited(schema._schema.mutation_type.fields[n]
                                                                .extensions[BACKREF]) for n in members_own)


@pytest.mark.parametrize("name,field", STAFF_MUTATIONS, ids=[name for name, _ in STAFF_MUTATIONS])
def test_every_staff_mutation_leaves_a_started_record_and_one_outcome(name, field, store, brand_id):
    member = register(store, brand_id, NOW)
    document, arguments = call_of(name, field, member)
    before = len(store.audit_log(brand_id, first=100, after=None).items)
    status, body = call_graphql(document, arguments, token("staff", f"staff-{name}", brand_id))
    assert status == 200
    records = store.audit_log(brand_id, first=100, after=None).items
    assert len(records) == before + 2, body
    record, started = records[0], records[1]
    assert started.outcome == audit.STARTED and audit.call_id(record) == audit.call_id(started) == started.audit_id
    assert started.arguments == record.arguments and started.mutation == record.mutation
    assert (record.mutation, record.staff_id, record.brand_id) == (name, f"staff-{name}", brand_id)
    assert record.outcome in (audit.OK, audit.REFUSED, audit.ERROR) and record.detail
    assert set(record.arguments) == set(arguments)
    result = (body.get("data") or {}).get(name)
    if body.get("errors"):
        assert record.outcome == audit.ERROR
    elif isinstance(result, dict) and record.outcome == audit.OK:
        assert record.detail == result["__typename"]
    else:
        assert record.outcome == audit.REFUSED and record.detail.isupper()


def test_refused_calls_are_not_staff_actions_and_member_mutations_are_not_audited(store, brand_id):
    member = register(store, brand_id, NOW)
    adjust = 'mutation($id: ID!) { adjustPoints(input: {memberId: $id, points: 5, reason: "r", idempotencyKey: "k"})' \
             ' { __typename } }'
    _, refused = call_graphql(adjust, {"id": member}, token("member", member, brand_id))
    assert error_codes(refused) == ["FORBIDDEN"]
    call_graphql('mutation { redeemPoints(input: {points: 1, idempotencyKey: "k"}) { __typename } }',
                 token=token("member", member, brand_id))
    assert store.audit_log(brand_id, first=10, after=None).items == []


def test_phone_numbers_and_personal_data_are_masked_in_the_arguments(store, brand_id):
    call_graphql('mutation { registerMember(input: {phone: "+86 138-0013-8000", channel: "h5", openid: "oWx123456789", '
                 'nickname: "王小明", birthday: "--01-02"}) { __typename } }', token=token("staff", "s1", brand_id))
    call_graphql('mutation($e: JSON!) { simulateEvent(event: $e) { status } }', {"e": {
        "id": "e-1", "source": "siyu.care", "detail-type": "feedback.received", "time": NOW.isoformat(),
        "detail": {"brandId": brand_id, "feedbackId": "f-1", "channel": "wecom", "kind": "complaint",
                   "text": "please call me on 13800138000", "topic": "call 13912345678"}}},
        token("staff", "s1", brand_id))
    simulated, registered = newest(brand_id, first=2)
    entered = registered["arguments"]["input"]
    assert (registered["mutation"], registered["outcome"], registered["detail"]) == (
        "registerMember", "ok", "RegisterMemberSuccess")
    # Audit records outlive erasure, so identifiers are left out, not masked.
    assert entered["phone"] == entered["openid"] == entered["nickname"] == entered["birthday"] == audit.OMITTED
    detail = simulated["arguments"]["event"]["detail"]
    assert detail["text"] == audit.OMITTED and detail["topic"] == "call 139****5678"
    text = str(simulated) + str(registered)
    assert "13800138000" not in text and "00138000" not in text and "王小明" not in text


def test_outcomes_say_how_the_call_ended(store, brand_id):
    staff = token("staff", "s1", brand_id)
    call_graphql('mutation { adjustPoints(input: {memberId: "m_nobody", points: 5, reason: "r", idempotencyKey: "k"})'
                 ' { __typename } }', token=staff)
    call_graphql('mutation($e: JSON!) { simulateEvent(event: $e) { status } }',
                 {"e": {"detail": {"brandId": "someone-else"}}}, staff)
    forbidden, refused = newest(brand_id, first=2)
    assert (refused["mutation"], refused["outcome"], refused["detail"]) == ("adjustPoints", "refused",
                                                                             "MEMBER_NOT_FOUND")
    assert (forbidden["mutation"], forbidden["outcome"], forbidden["detail"]) == ("simulateEvent", "error",
                                                                                   "FORBIDDEN")


def test_staff_page_through_their_own_brands_log_newest_first_and_nobody_else_reads_it(store, brand_id):
    staff = token("staff", "s1", brand_id)
    for key in ("k1", "k2", "k3"):
        call_graphql('mutation($k: String!) { adjustPoints(input: {memberId: "m_x", points: 1, reason: "r", '
                     'idempotencyKey: $k}) { __typename } }', {"k": key}, staff)
    _, first = call_graphql(AUDIT_LOG, {"first": 2}, staff)
    page = first["data"]["auditLog"]
    # Each call: its outcome, then the record written before it ran.
    assert [(e["node"]["arguments"]["input"]["idempotencyKey"], e["node"]["outcome"]) for e in page["edges"]] == [
        ("k3", "refused"), ("k3", "started")]
    assert page["pageInfo"]["hasNextPage"] is True
    _, rest = call_graphql(AUDIT_LOG, {"first": 10, "after": page["pageInfo"]["endCursor"]}, staff)
    assert [e["node"]["arguments"]["input"]["idempotencyKey"] for e in rest["data"]["auditLog"]["edges"]] == [
        "k2", "k2", "k1", "k1"]

    _, other_brand = call_graphql(AUDIT_LOG, {"first": 10}, token("staff", "s1", brand_id + "x"))
    assert other_brand["data"]["auditLog"]["edges"] == []
    member = register(store, brand_id, NOW)
    _, as_member = call_graphql(AUDIT_LOG, {"first": 10}, token("member", member, brand_id))
    assert error_codes(as_member) == ["FORBIDDEN"]


def test_an_audit_record_is_never_overwritten_and_no_operation_changes_one(store, brand_id):
    record = audit.new_record(brand_id=brand_id, staff_id="s1", mutation="adjustPoints", arguments={}, at=NOW,
                              outcome=audit.OK, detail="PointsChanged")
    store.record_audit(record)
    with pytest.raises(PutError):
        store.record_audit(audit.AuditRecord(**{**record.__dict__, "outcome": audit.ERROR}))
    (kept,) = store.audit_log(brand_id, first=10, after=None).items
    assert kept.outcome == audit.OK
    assert not [name for name in schema._schema.mutation_type.fields if "audit" in name.lower()]


def test_a_staff_mutation_whose_audit_record_cannot_be_written_fails_loudly(store, brand_id, monkeypatch):
    from infra import runtime

    def refuse(record):
        raise RuntimeError("the audit table is unavailable")

    monkeypatch.setattr(runtime.store(), "record_audit", refuse)
    _, body = call_graphql('mutation { adjustPoints(input: {memberId: "m_x", points: 1, reason: "r", '
                           'idempotencyKey: "k"}) { __typename } }', token=token("staff", "s1", brand_id),
                           language="en")
    assert body["data"] is None and body["errors"][0]["message"] == "Internal error"
