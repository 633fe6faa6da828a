"""What one request may ask for, and the code every error carries (api/hardening.py, README "Security")."""

import asyncio
import logging
from datetime import datetime, timezone

import httpx
import pytest

from api.hardening import CODES
from infra.db import count_requests
from tests.helpers import STAGE_SECRETS, call_graphql, error_codes, register, token

NOW = datetime.now(timezone.utc)
PROD = {"SIYU_STAGE": "prod", **STAGE_SECRETS}
HISTORY = "{ me { points { history { edges { node { id } } } } } }"  # depth 5


@pytest.fixture
def member_token(store, brand_id):
    return token("member", register(store, brand_id, NOW), brand_id)


def test_a_query_deeper_than_the_limit_is_refused_before_any_read(configure, member_token):
    configure(SIYU_GRAPHQL_MAX_DEPTH="4")
    with count_requests() as requests:
        _, body = call_graphql(HISTORY, token=member_token)
    assert body.get("data") is None and set(error_codes(body)) == {"LIMIT_EXCEEDED"}
    assert requests.total == 0
    configure(SIYU_GRAPHQL_MAX_DEPTH="5")
    _, body = call_graphql(HISTORY, token=member_token)
    assert "errors" not in body and body["data"]["me"]["points"]["history"]["edges"] == []


def test_the_default_depth_lets_the_deepest_selections_of_the_schema_through(member_token):
    query = ("{ me { activity { edges { node { eventId effects } } } "
             "points { history { edges { node { id explanation } } pageInfo { endCursor } } } } }")
    _, body = call_graphql(query, token=member_token)
    assert "errors" not in body, body


def test_too_many_aliases_are_refused_with_limit_exceeded(member_token):
    at_limit = "{ " + " ".join(f"m{i}: me {{ id }}" for i in range(15)) + " }"
    over = "{ " + " ".join(f"m{i}: me {{ id }}" for i in range(16)) + " }"
    _, fine = call_graphql(at_limit, token=member_token)
    assert "errors" not in fine and len(fine["data"]) == 15
    _, body = call_graphql(over, token=member_token)
    assert body.get("data") is None and error_codes(body) == ["LIMIT_EXCEEDED"]


def test_aliases_hidden_in_fragments_count_too(member_token):
    query = ("{ ...F } fragment F on Query { " + " ".join(f"m{i}: me {{ id }}" for i in range(16)) + " }")
    _, body = call_graphql(query, token=member_token)
    assert error_codes(body) == ["LIMIT_EXCEEDED"]


def test_a_document_over_the_token_limit_is_refused_while_parsing(configure, member_token):
    configure(SIYU_GRAPHQL_MAX_TOKENS="50")
    padded = "{ me { " + " ".join(["id"] * 60) + " } }"
    with count_requests() as requests:
        _, body = call_graphql(padded, token=member_token)
    assert body.get("data") is None and error_codes(body) == ["LIMIT_EXCEEDED"]
    assert requests.total == 0
    _, fine = call_graphql("{ me { id } }", token=member_token)
    assert "errors" not in fine


def test_mistakes_in_the_request_are_bad_user_input_and_shown_as_they_are(member_token):
    cases = {
        "{ me { id } ": "Syntax Error",
        "{ nope }": "Cannot query field 'nope'",
        "query($d: Int!) { me { points { expiringWithin(days: $d) } } }": "Int cannot represent",
    }
    for query, message in cases.items():
        _, body = call_graphql(query, {"d": 2**40}, token=member_token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body
        assert message in body["errors"][0]["message"]


def test_an_unexpected_failure_is_masked_coded_internal_and_logged_with_its_traceback(
        store, brand_id, member_token, monkeypatch, caplog):
    from infra.dynamo_store import DynamoStore

    def broken(*args, **kwargs):
        raise RuntimeError("connection to 10.0.3.7 failed in /var/task/infra/store.py")

    monkeypatch.setattr(DynamoStore, "load_member", broken)
    with caplog.at_level(logging.ERROR, logger="siyu.api"):
        status, body = call_graphql("{ me { id } }", token=member_token, language="en")
    assert status == 200
    assert body["errors"][0]["message"] == "Internal error"
    assert error_codes(body) == ["INTERNAL"]
    assert "10.0.3.7" not in str(body) and "store.py" not in str(body) and "RuntimeError" not in str(body)
    logged = [r for r in caplog.records if r.name == "siyu.api"]
    assert logged and logged[0].exc_info and "10.0.3.7" in str(logged[0].exc_info[1])


def test_every_error_a_client_can_see_carries_one_of_the_documented_codes(store, brand_id, member_token):
    staff = token("staff", "s1", brand_id)
    requests = [("{ me { id } }", None), ("{ me { id } }", "not-a-jwt"), ("{ me { id } }", staff),
                ("{ plugins { name } }", member_token), ("{ nope }", member_token),
                ("{ eventProblems(first: 1000) { edges { cursor } } }", staff),
                ("{ " + " ".join(f"m{i}: me {{ id }}" for i in range(40)) + " }", member_token)]
    for query, bearer in requests:
        _, body = call_graphql(query, token=bearer)
        assert body["errors"] and set(error_codes(body)) <= set(CODES), (query, body)


def test_in_prod_introspection_is_refused_and_typename_still_works(configure, dynamodb_endpoint):
    configure(**PROD)
    _, body = call_graphql("{ __schema { queryType { name } } }")
    assert body.get("data") is None and set(error_codes(body)) == {"FORBIDDEN"}
    _, body = call_graphql('{ __type(name: "Member") { fields { name } } }')
    assert set(error_codes(body)) == {"FORBIDDEN"}
    _, body = call_graphql('mutation { loginWithWechat(brandId: "nobody", code: "x") { __typename } }')
    assert "errors" not in body and body["data"]["loginWithWechat"]["__typename"] == "BrandNotConfigured"


def test_outside_prod_introspection_answers(dynamodb_endpoint):
    _, body = call_graphql("{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


def _browse(app) -> httpx.Response:
    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://siyu.test") as client:
            return await client.get("/graphql", headers={"accept": "text/html"})

    # A loop of its own, never installed: asyncio.run would leave the main thread without one, and mangum (the
    # Lambda adapter the other tests call) needs it.
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(get())
    finally:
        loop.close()


def test_graphiql_is_served_locally_and_not_in_prod(configure):
    from api.app import build_app

    local = _browse(build_app(configure()))
    assert local.status_code == 200 and "graphiql" in local.text.lower()
    prod = _browse(build_app(configure(**PROD)))
    assert prod.status_code == 404 and "graphiql" not in prod.text.lower()
