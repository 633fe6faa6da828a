"""Regressions from the second attack on the API (issue 18): each test is one finding, and failed before its fix.

1. A staff change without an audit record (a lone surrogate made the record fail after the change).
2. Personal data in free text surviving erasure (ledger reasons, tags, audit arguments, problems' raw events).
3. Unauthenticated CPU burn in validation (the validation budget).
4. HTTP 500s and plain-text errors for malformed requests.
5. Stages other than local not hardened; long-lived tokens.
6. Overwritable audit records, unlimited WeChat logins, counters written for erased members.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.exceptions import ClientError

from api.hardening import CODES
from infra import runtime
from rules import audit
from rules.erasure import erase
from tests.helpers import (
    STAGE_JWT_SECRET,
    STAGE_PHONE_KEY,
    STAGE_SECRETS,
    LambdaContext,
    business_event,
    call_graphql,
    error_codes,
    http_api_event,
    register,
    token,
)

NOW = datetime.now(timezone.utc)
SURROGATE = "\ud800"  # json.dumps writes it as the escape "\ud800", as the attacker's client did
PHONE = "13766554433"
OPENID = "oGZUI0egBJY1zhBYw2KhdUfwVJJE"


def records(store, brand_id):
    return store.audit_log(brand_id, first=100, after=None).items


def outcomes(store, brand_id):
    return [r for r in records(store, brand_id) if r.outcome != audit.STARTED]


# ---- 1. the audit record cannot be skipped -------------------------------------------------------------------


def test_a_lone_surrogate_in_ignored_params_still_leaves_the_audit_record_of_the_brand_change(store, brand_id):
    staff = token("staff", "s1", brand_id)
    configure = ('mutation($input: ConfigureBrandInput!) { configureBrand(input: $input) { __typename '
                 '... on BrandConfigured { brand { enabledPlugins version } } } }')
    _, body = call_graphql(configure, {"input": {"plugins": [
        {"name": "points", "enabled": True, "params": {"note": SURROGATE}}]}}, staff)
    assert "INTERNAL" not in error_codes(body), body
    kept = records(store, brand_id)
    assert [r.outcome for r in kept][-1] == audit.STARTED and kept[0].mutation == "configureBrand"
    assert kept[0].outcome in (audit.OK, audit.REFUSED), kept[0]
    assert audit.call_id(kept[0]) == kept[-1].audit_id


@pytest.mark.parametrize("mutation,variables", [
    ('mutation($r: String!) { adjustPoints(input: {memberId: "m_nobody", points: 5, reason: $r, '
     'idempotencyKey: "k"}) { __typename } }', {"r": "note " + SURROGATE}),
    ('mutation($t: [String!]!) { setMemberTags(memberId: "m_nobody", tags: $t) { __typename } }',
     {"t": ["vip" + SURROGATE]}),
    ('mutation($id: ID!) { eraseMember(id: $id) { __typename } }', {"id": "m_" + SURROGATE}),
    ('mutation($id: ID!) { reversePointsEntry(input: {memberId: $id, entryId: "e1", idempotencyKey: "k"}) '
     '{ __typename } }', {"id": "m_" + SURROGATE}),
    ('mutation($n: String) { registerMember(input: {phone: "123", channel: "h5", nickname: $n}) { __typename } }',
     {"n": SURROGATE}),
], ids=["adjustPoints", "setMemberTags", "eraseMember", "reversePointsEntry", "registerMember"])
def test_failed_staff_calls_carrying_a_lone_surrogate_leave_their_outcome(store, brand_id, mutation, variables):
    _, body = call_graphql(mutation, variables, token("staff", "s1", brand_id))
    assert "INTERNAL" not in error_codes(body), body
    (outcome,) = outcomes(store, brand_id)
    assert outcome.outcome in (audit.REFUSED, audit.ERROR, audit.OK) and outcome.detail
    assert SURROGATE not in json.dumps(outcome.arguments, ensure_ascii=False)


def test_the_audit_serialisation_repairs_what_it_cannot_encode_instead_of_raising():
    assert audit._bounded({"params": {"note": SURROGATE}}) == {"params": {"note": "?"}}
    deep: dict = {}
    node = deep
    for _ in range(900):
        node["a"] = {}
        node = node["a"]
    record = audit.new_record(brand_id="b", staff_id="s", mutation="simulateEvent", arguments={"event": deep},
                              at=NOW, outcome=audit.STARTED, detail=None)
    assert "nested too deep" in json.dumps(record.arguments)


def test_a_staff_change_whose_audit_record_cannot_be_written_does_not_happen(store, brand_id, monkeypatch):
    member = register(store, brand_id, NOW)

    def unavailable(record):
        raise RuntimeError("the audit store is unavailable")

    monkeypatch.setattr(runtime.store(), "record_audit", unavailable)
    _, body = call_graphql('mutation($id: ID!) { adjustPoints(input: {memberId: $id, points: 500, reason: "r", '
                           'idempotencyKey: "k"}) { __typename } }', {"id": member}, token("staff", "s1", brand_id))
    assert error_codes(body) == ["INTERNAL"]
    assert store.entries(brand_id, member) == [] and store.load_member(brand_id, member).points.balance == 0


# ---- 2. free text cannot smuggle personal data -------------------------------------------------------------------


def test_a_phone_number_in_an_adjustment_reason_is_masked_in_the_ledger_and_the_reason_goes_with_erasure(
        store, brand_id, caplog):
    member = register(store, brand_id, NOW)
    caplog.set_level(logging.DEBUG, logger="botocore")
    _, body = call_graphql('mutation($id: ID!, $r: String!) { adjustPoints(input: {memberId: $id, points: 50, '
                           'reason: $r, idempotencyKey: "k"}) { __typename } }',
                           {"id": member, "r": f"客户来电 {PHONE} 补偿 {OPENID}"}, token("staff", "s1", brand_id))
    assert body["data"]["adjustPoints"]["__typename"] == "PointsChanged"
    (entry,) = store.entries(brand_id, member)
    assert entry.reason == "客户来电 137****4433 补偿 [id]"
    assert PHONE not in caplog.text and OPENID not in caplog.text
    erase(store, brand_id, member, now=NOW, actor="member:" + member)
    (kept,) = store.entries(brand_id, member)
    assert kept.reason is None and kept.points == 50  # the anonymised ledger stays, without its free text


def test_tags_are_masked_when_set_and_removed_when_the_member_is_erased(store, brand_id):
    member = register(store, brand_id, NOW)
    staff = token("staff", "s1", brand_id)
    _, body = call_graphql('mutation($id: ID!, $t: [String!]!) { setMemberTags(memberId: $id, tags: $t) { '
                           '... on MemberTagsSet { member { tags } } } }',
                           {"id": member, "t": ["vip", f"call {PHONE}"]}, staff)
    assert sorted(body["data"]["setMemberTags"]["member"]["tags"]) == ["call 137****4433", "vip"]
    erase(store, brand_id, member, now=NOW, actor="staff:s1")
    assert store.load_member(brand_id, member, include_erased=True).profile.tags in ((), frozenset(), set(), None)


def test_audit_records_keep_no_comment_tags_or_identifiers(store, brand_id):
    member = register(store, brand_id, NOW)
    staff = token("staff", "s1", brand_id)
    call_graphql('mutation($id: ID!, $t: [String!]!) { setMemberTags(memberId: $id, tags: $t) { __typename } }',
                 {"id": member, "t": ["王小明", OPENID]}, staff)
    call_graphql('mutation($e: JSON!) { simulateEvent(event: $e) { status } }', {"e": {
        "detail-type": "order.paid", "comment": f"王小明 {OPENID}", "detail": {"brandId": brand_id}}}, staff)
    kept = json.dumps([r.arguments for r in records(store, brand_id)], ensure_ascii=False)
    assert "王小明" not in kept and OPENID not in kept and audit.OMITTED in kept


def test_problems_keep_personal_fields_masked_and_lose_their_raw_event_when_the_member_is_erased(
        store, rules_brand, engine):
    member = register(store, rules_brand, NOW)
    event = business_event("order.paid", {"brandId": rules_brand, "memberId": member, "orderId": "o1",
                                          "amountFen": "not a number", "openid": OPENID,
                                          "unionid": "o" + OPENID[1:], "nickname": "王小明", "phone": PHONE,
                                          "note": f"call {PHONE}"})
    engine.handle(event)
    (problem,) = store.problems(rules_brand, first=5, after=None).items
    for secret in (OPENID, "王小明", PHONE, OPENID[1:]):
        assert secret not in problem.raw
    assert "137****4433" in problem.raw
    erase(store, rules_brand, member, now=NOW, actor="member:" + member)
    (after,) = store.problems(rules_brand, first=5, after=None).items
    assert after.raw == "" and after.reason == problem.reason


# ---- 3. no cheap request can burn a Lambda -----------------------------------------------------------------------


def test_the_issues_495_me_document_is_refused_before_any_validation_rule_runs(monkeypatch):
    from strawberry.schema import schema as strawberry_schema

    validated = []
    original = strawberry_schema.validate_document
    monkeypatch.setattr(strawberry_schema, "validate_document",
                        lambda *a, **k: validated.append(1) or original(*a, **k))
    document = "{ " + "me{id} " * 495 + "}"
    _, body = call_graphql(document)
    assert error_codes(body) == ["LIMIT_EXCEEDED"] and validated == []
    _, fine = call_graphql("{ __typename }")
    assert fine == {"data": {"__typename": "Query"}} and validated == [1]


def test_callers_without_a_token_get_the_strictest_budget(store, brand_id):
    from infra.settings import settings

    strict, signed_in = settings().graphql_anonymous_budget, settings().graphql_budget
    assert strict.same_key < signed_in.same_key and strict.selections < signed_in.selections
    document = "{ " + " ".join("me { id }" for _ in range(strict.same_key + 1)) + " }"
    _, anonymous = call_graphql(document)
    assert error_codes(anonymous) == ["LIMIT_EXCEEDED"] and "share a response key" in anonymous["errors"][0][
        "message"]
    _, member = call_graphql(document, token=token("member", register(store, brand_id, NOW), brand_id))
    assert "errors" not in member and len(member["data"]["me"]) == 1


def test_fragments_spread_many_times_count_toward_the_budget():
    fields = " ".join(f"f{i}: __typename" for i in range(5))
    document = "{ ...A } fragment A on Query { " + " ".join("me { id }" for _ in range(10)) + " " + fields + " }"
    _, body = call_graphql(document)
    assert error_codes(body) == ["LIMIT_EXCEEDED"]


# ---- 4. every malformed HTTP request gets JSON with a code, never a 500 ------------------------------------------


def _raw(body: str | None, *, method: str = "POST", content_type: str | None = "application/json") -> tuple:
    from api.handler import handler

    event = http_api_event("{ __typename }")
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = f"{method} /graphql"
    if content_type is None:
        event["headers"].pop("content-type")
    else:
        event["headers"]["content-type"] = content_type
    if body is None:
        event.pop("body")
    else:
        event["body"] = body
    response = handler(event, LambdaContext())
    text = base64.b64decode(response["body"]).decode() if response.get("isBase64Encoded") else response["body"]
    return response["statusCode"], response["headers"].get("content-type", ""), text


@pytest.mark.parametrize("body,content_type", [
    ("null", "application/json"), ("1", "application/json"), ("true", "application/json"),
    ('"str"', "application/json"), ("[" * 3000 + "]" * 3000, "application/json"),
    ('{"query": ' + "[" * 3000 + "]" * 3000 + "}", "application/json"), ("{nope", "application/json"),
    ('{"query": "{ __typename }"}', "text/plain"), ('{"query": "{ __typename }"}', None),
    ('{"query": 5}', "application/json"), ('{"query": "{ __typename }", "variables": [1]}', "application/json"),
    ("", "application/json"),
], ids=["null", "1", "true", "str", "nested-3000", "query-nested-3000", "not-json", "text-plain",
        "no-content-type", "query-not-string", "variables-not-object", "empty"])
def test_a_malformed_body_gets_a_4xx_json_error_with_a_code(body, content_type):
    status, kind, text = _raw(body, content_type=content_type)
    assert 400 <= status < 500 and kind.startswith("application/json"), (status, kind, text)
    error = json.loads(text)["errors"][0]
    assert error["extensions"]["code"] in CODES and error["extensions"]["code"] != "INTERNAL"


def test_a_get_without_a_query_gets_a_4xx_json_error_with_a_code():
    status, kind, text = _raw(None, method="GET", content_type=None)
    assert status == 400 and kind.startswith("application/json")
    assert json.loads(text)["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_a_simulated_event_nested_900_deep_is_bad_input_not_internal(brand_id):
    detail: dict = {"brandId": brand_id}
    node = detail
    for _ in range(900):
        node["x"] = {}
        node = node["x"]
    status, body = call_graphql('mutation($e: JSON!) { simulateEvent(event: $e) { status } }',
                                {"e": {"detail-type": "order.paid", "detail": detail}},
                                token("staff", "s1", brand_id))
    assert status == 400 and error_codes(body) == ["BAD_USER_INPUT"]
    inline = "{a: " * 300 + "1" + "}" * 300
    _, literal = call_graphql("mutation { simulateEvent(event: {detail: " + inline + "}) { status } }",
                              token=token("staff", "s1", brand_id))
    assert error_codes(literal) == ["BAD_USER_INPUT"]


def test_coupon_offers_for_an_erased_member_are_not_found_not_internal(store, brand_id):
    member = register(store, brand_id, NOW)
    erase(store, brand_id, member, now=NOW, actor="member:" + member)
    _, body = call_graphql("{ couponOffers { eligible } }", token=token("member", member, brand_id))
    assert error_codes(body) == ["NOT_FOUND"]


# ---- 5. hardening is the default; local is the only exception ----------------------------------------------------


@pytest.mark.parametrize("stage", ["dev", "staging", "production", "prod", "ci"])
def test_every_stage_but_local_is_hardened(configure, stage):
    from starlette.testclient import TestClient

    from api.app import build_app

    config = configure(SIYU_STAGE=stage, **STAGE_SECRETS)
    assert config.is_hardened and config.wechat_client == "wechat"
    _, introspection = call_graphql("{ __schema { types { name } } }")
    assert set(error_codes(introspection)) == {"FORBIDDEN"}
    _, typo = call_graphql("{ mee { id } }")
    assert error_codes(typo) == ["BAD_USER_INPUT"] and "Did you mean" not in typo["errors"][0]["message"]
    _, wrong_argument = call_graphql('mutation { loginWithWechat(brandI: "b", code: "c") { __typename } }')
    assert all("Did you mean" not in e["message"] for e in wrong_argument["errors"])
    page = TestClient(build_app(config)).get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404 and "graphiql" not in page.text.lower()


def test_locally_suggestions_and_introspection_stay_for_developers():
    _, typo = call_graphql("{ mee { id } }")
    assert "Did you mean 'me'?" in typo["errors"][0]["message"]


@pytest.mark.parametrize("secret", ["siyu-local-dev-secret-change-me-0123456789", "x", "s" * 40,
                                    "prod-secret-for-tests-" * 2, "abcdefghijklmnopqrstuvwxyz012345"[:31]])
def test_a_weak_or_default_secret_stops_a_hardened_stage_from_starting(configure, secret):
    with pytest.raises(RuntimeError, match="JWT_SECRET") as refused:
        configure(SIYU_STAGE="dev", JWT_SECRET=secret, PHONE_HASH_KEY=STAGE_PHONE_KEY)
    assert secret not in str(refused.value)


def test_the_local_wechat_client_is_refused_on_dev(configure):
    with pytest.raises(RuntimeError, match="local WeChat client"):
        configure(SIYU_STAGE="dev", SIYU_WECHAT_CLIENT="local", **STAGE_SECRETS)


def test_tokens_living_longer_than_their_role_allows_are_refused(store, brand_id):
    member = register(store, brand_id, NOW)
    query = "{ me { id } }"
    assert "errors" not in call_graphql(query, token=token("member", member, brand_id, ttl=timedelta(hours=24)))[1]
    for too_long in (timedelta(hours=25), datetime(2999, 1, 1, tzinfo=timezone.utc) - NOW):
        _, body = call_graphql(query, token=token("member", member, brand_id, ttl=too_long))
        assert error_codes(body) == ["UNAUTHENTICATED"]
    staff = "{ brand { id } }"
    assert "errors" not in call_graphql(staff, token=token("staff", "s1", brand_id, ttl=timedelta(hours=12)))[1]
    _, body = call_graphql(staff, token=token("staff", "s1", brand_id, ttl=timedelta(hours=13)))
    assert error_codes(body) == ["UNAUTHENTICATED"]


def test_token_lifetimes_may_be_shortened_by_settings_but_not_lengthened(configure, store, brand_id):
    member = register(store, brand_id, NOW)
    configure(SIYU_MEMBER_TOKEN_MAX_HOURS="1")
    _, body = call_graphql("{ me { id } }", token=token("member", member, brand_id, ttl=timedelta(hours=2)))
    assert error_codes(body) == ["UNAUTHENTICATED"]
    with pytest.raises(RuntimeError, match="SIYU_STAFF_TOKEN_MAX_HOURS"):
        configure(SIYU_STAFF_TOKEN_MAX_HOURS="13")


def _siyu_token(*arguments: str, **env: str) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "PHONE_HASH_KEY", "SIYU_STAGE")}
    return subprocess.run([sys.executable, "-m", "infra.cli", "token", *arguments, "--brand", "b1"],
                          env=environment | env, capture_output=True, text=True, timeout=60)


def test_siyu_token_will_not_mint_a_token_longer_than_its_role_allows():
    import jwt

    refused = _siyu_token("staff", "--hours", "876000", SIYU_STAGE="prod", **STAGE_SECRETS)
    assert refused.returncode == 2 and refused.stdout == "" and "at most 12:00:00" in refused.stderr
    minted = _siyu_token("staff", SIYU_STAGE="prod", **STAGE_SECRETS)
    claims = jwt.decode(minted.stdout.strip(), STAGE_JWT_SECRET, algorithms=["HS256"],
                        options={"verify_iss": False})
    assert claims["exp"] - claims["iat"] == 12 * 3600


# ---- 6. overwrite-proof audit, login limits, nothing written for erased members ----------------------------------


def test_an_archived_audit_record_cannot_be_put_again(dynamodb_endpoint, store):
    from infra.audit_archive import AuditArchive
    from infra.dynamo_store import DynamoStore

    s3 = boto3.client("s3", endpoint_url=dynamodb_endpoint)
    bucket = f"siyu-audit-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    archived = DynamoStore(audit_archive=AuditArchive(bucket, s3))
    brand = f"a{uuid.uuid4().hex[:8]}"
    record = audit.new_record(brand_id=brand, staff_id="s1", mutation="adjustPoints", arguments={"x": 1}, at=NOW,
                              outcome=audit.OK, detail="PointsChanged")
    archived.record_audit(record)
    with pytest.raises(ClientError) as refused:
        AuditArchive(bucket, s3).put(audit.AuditRecord(**{**record.__dict__, "outcome": audit.ERROR}))
    assert refused.value.response["Error"]["Code"] in ("PreconditionFailed", "412")
    kept = json.loads(s3.get_object(Bucket=bucket, Key=AuditArchive.key(record))["Body"].read())
    assert kept["outcome"] == audit.OK and [r.outcome for r in archived.audit_log(brand, first=5, after=None).items
                                            ] == [audit.OK]


def test_aliased_logins_in_one_request_sign_in_once(brand_id):
    # The attack: 15 aliased logins in one request created 15 members (and would have called WeChat 15 times).
    logins = " ".join(f'l{i}: loginWithWechat(brandId: $b, code: "alias{i}") {{ __typename }}' for i in range(15))
    _, body = call_graphql("mutation($b: String!) { " + logins + " }", {"b": brand_id})
    kinds = [body["data"][f"l{i}"]["__typename"] for i in range(15)]
    assert kinds[0] == "LoggedIn" and set(kinds[1:]) == {"RateLimited"}


def test_logins_are_limited_per_brand_and_client_address(configure, brand_id):
    configure(SIYU_ATTEMPT_LIMITS=json.dumps({"loginWithWechat": {"attempts": 3, "windowSeconds": 300}}))
    login = 'mutation($b: String!, $c: String!) { loginWithWechat(brandId: $b, code: $c) { __typename } }'
    kinds = [call_graphql(login, {"b": brand_id, "c": f"client{i}"})[1]["data"]["loginWithWechat"]["__typename"]
             for i in range(4)]
    assert kinds == ["LoggedIn", "LoggedIn", "LoggedIn", "RateLimited"]
    # Another address (API Gateway's sourceIp) has its own count.
    from api.handler import handler

    event = http_api_event(login, {"b": brand_id, "c": "client9"})
    event["requestContext"]["http"]["sourceIp"] = "198.51.100.9"
    answer = json.loads(handler(event, LambdaContext())["body"])
    assert answer["data"]["loginWithWechat"]["__typename"] == "LoggedIn"


def test_no_attempt_counter_is_written_for_an_erased_member(store, brand_id, dynamodb):
    from infra import keys
    from infra.settings import settings

    member = register(store, brand_id, NOW)
    erase(store, brand_id, member, now=NOW, actor="member:" + member)
    _, body = call_graphql('mutation { redeemPoints(input: {points: 1, idempotencyKey: "k"}) { __typename } }',
                           token=token("member", member, brand_id))
    assert body["data"]["redeemPoints"]["__typename"] == "MemberNotFound"
    written = dynamodb.query(TableName=settings().table_name, KeyConditionExpression="pk = :pk",
                             ExpressionAttributeValues={":pk": {"S": keys.attempts_pk(brand_id, member)}})
    assert written["Items"] == []

