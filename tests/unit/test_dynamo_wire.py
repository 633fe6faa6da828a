"""The direct wire path sends the bytes botocore would send and hands back the dicts botocore would parse."""

import base64
import json

import boto3
import botocore.session
import jmespath
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from botocore.parsers import JSONParser
from botocore.serialize import JSONSerializer

from infra import dynamo_wire

MODEL = botocore.session.get_session().get_service_model("dynamodb")

ITEM = {"pk": {"S": "M#b1#m1"}, "sk": {"S": "LOT#2027"}, "remaining": {"N": "120"}, "gone": {"NULL": True},
        "ok": {"BOOL": True}, "tags": {"SS": ["vip", "老客"]},
        "marks": {"M": {"o1": {"L": [{"N": "1"}, {"S": "x"}]}}},
        "note": {"S": 'he wrote "B": here'}}


def response(body: dict) -> dict:
    return {"status_code": 200, "headers": {"x-amzn-requestid": "r1"}, "body": json.dumps(body).encode()}


@pytest.mark.parametrize("operation, body", [
    ("Query", {"Items": [ITEM, ITEM], "Count": 2, "ScannedCount": 3, "LastEvaluatedKey": {"pk": {"S": "a"}}}),
    ("GetItem", {"Item": ITEM}),
    ("GetItem", {}),
    ("Query", {"Items": [dict(ITEM, fx={"B": base64.b64encode(b"\x78\x9c packed").decode()})], "Count": 1}),
    ("TransactWriteItems", {}),
    ("BatchGetItem", {"Responses": {"t": [ITEM]}, "UnprocessedKeys": {}}),
])
def test_an_answer_parses_to_what_botocore_makes_of_it(operation, body):
    shape = MODEL.operation_model(operation).output_shape
    ours = dynamo_wire.WireJSONParser().parse(response(body), shape)
    theirs = JSONParser().parse(response(body), shape)
    assert ours == theirs


def test_an_answer_that_is_not_json_is_left_to_botocore():
    broken = {"status_code": 200, "headers": {}, "body": b"<html>Service Unavailable</html>"}
    shape = MODEL.operation_model("Query").output_shape
    assert dynamo_wire.WireJSONParser().parse(broken, shape) == JSONParser().parse(broken, shape)


def test_an_error_answer_is_left_to_botocore():
    error = {"status_code": 400, "headers": {}, "body": json.dumps(
        {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "message": "cancelled",
         "CancellationReasons": [{"Code": "ConditionalCheckFailed"}]}).encode()}
    shape = MODEL.operation_model("TransactWriteItems").output_shape
    assert dynamo_wire.WireJSONParser().parse(error, shape) == JSONParser().parse(error, shape)


@pytest.mark.parametrize("operation, params", [
    ("Query", {"TableName": "t", "KeyConditionExpression": "#0 = :0", "ExpressionAttributeNames": {"#0": "pk"},
               "ExpressionAttributeValues": {":0": {"S": "M#b1#m1"}}, "ConsistentRead": True, "Limit": 5}),
    ("TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "t", "Item": ITEM, "ConditionExpression": "attribute_not_exists (#0)",
                 "ExpressionAttributeNames": {"#0": "pk"}}},
        {"Put": {"TableName": "t", "Item": dict(ITEM, fx={"B": b"\x78\x9c packed"})}},
        {"Update": {"TableName": "t", "Key": {"pk": {"S": "p"}, "sk": {"S": "s"}}, "UpdateExpression": "ADD #0 :0",
                    "ExpressionAttributeNames": {"#0": "n"}, "ExpressionAttributeValues": {":0": {"N": "-3"}}}}]}),
    ("PutItem", {"TableName": "t", "Item": dict(ITEM, fx={"B": "text botocore encodes"})}),
    ("PutItem", {"TableName": "t", "Item": dict(ITEM, fxs={"BS": [b"a", b"b"]})}),
    ("PutItem", {"TableName": "t", "Item": dict(ITEM, tags={"SS": {"a"}})}),  # a set: botocore's walk lists it
    ("DescribeTable", {"TableName": "t"}),
])
def test_a_request_is_the_one_botocore_would_send(operation, params):
    model = MODEL.operation_model(operation)
    ours = dynamo_wire.WireJSONSerializer().serialize_to_request(params, model)
    theirs = JSONSerializer().serialize_to_request(params, model)
    assert ours == theirs


def test_the_models_connection_gets_the_direct_path_when_its_client_is_made(monkeypatch):
    from pynamodb.connection.base import Connection

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    connection = Connection(region="us-east-1", host="http://127.0.0.1:9")
    dynamo_wire.wire(connection)
    client = connection.client
    assert isinstance(client._serializer, dynamo_wire.WireJSONSerializer)
    assert isinstance(client._endpoint._response_parser_factory, dynamo_wire.WireParserFactory)
    assert isinstance(client._ruleset_resolver, dynamo_wire.WireEndpointResolver)
    assert connection.client is client


# ---- the endpoint rules' table lists, read without jmespath ---------------------------------------------------------

# Mostly what botocore lets through (operations that name their table), with the shapes it would refuse mixed in.
_NAMES = st.sampled_from(["siyu", "siyu-test", "其它", "a", "b"])
_TABLE = st.one_of(_NAMES, _NAMES, _NAMES, st.none(), st.integers(), st.lists(st.just("t"), max_size=2))
_NAMED = st.fixed_dictionaries({"TableName": _TABLE}, optional={"Key": st.just({"pk": {"S": "p"}})})
_OPERATION = st.one_of(_NAMED, _NAMED, _NAMED, st.none(), st.text(max_size=2),
                       st.fixed_dictionaries({}, optional={"Key": st.just({})}))
_ITEM = st.one_of(*[st.dictionaries(st.sampled_from(["ConditionCheck", "Put", "Delete", "Update", "Get", "Other"]),
                                    _OPERATION, min_size=1, max_size=4)] * 4, st.none(), st.integers(),
                  st.text(max_size=2))
_CALL_ARGS = st.fixed_dictionaries({}, optional={
    "TransactItems": st.one_of(st.lists(_ITEM, max_size=6), st.none(), st.text(max_size=2),
                               st.dictionaries(st.text(max_size=2), _ITEM, max_size=2)),
    "RequestItems": st.one_of(st.dictionaries(st.sampled_from(["a", "b", "siyu"]), st.just({}), max_size=3),
                              st.none(), st.lists(st.just("a"), max_size=2)),
    "TableName": _TABLE})


@pytest.mark.parametrize("operation", ["TransactWriteItems", "TransactGetItems", "BatchGetItem", "BatchWriteItem"])
@settings(max_examples=300, deadline=None)
@given(call_args=_CALL_ARGS)
@example(call_args={"TransactItems": [{"Update": {"TableName": "u"}, "Put": {"TableName": "p"},
                                       "ConditionCheck": {"TableName": "c"}, "Delete": {"TableName": "d"}}]})
def test_a_multi_table_requests_table_list_is_the_one_jmespath_finds(operation, call_args):
    model = MODEL.operation_model(operation)
    path = model.operation_context_parameters["ResourceArnList"]["path"]
    assert path in dynamo_wire._CONTEXT_PATHS  # a botocore that renamed the path would fall back to jmespath
    resolver = object.__new__(dynamo_wire.WireEndpointResolver)
    try:
        expected = jmespath.search(path, call_args)
    except jmespath.exceptions.JMESPathError as error:
        with pytest.raises(type(error)):
            resolver._resolve_param_as_operation_context_param("ResourceArnList", model, call_args)
        return
    assert resolver._resolve_param_as_operation_context_param("ResourceArnList", model, call_args) == expected


def test_a_transaction_resolves_to_the_endpoint_botocore_gives_it(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    args = {"TransactItems": [{"Put": {"TableName": "siyu", "Item": ITEM}},
                              {"Update": {"TableName": "siyu", "Key": {"pk": {"S": "p"}}}},
                              {"ConditionCheck": {"TableName": "other", "Key": {}}}]}
    for endpoint_url in (None, "http://127.0.0.1:9"):
        plain = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url)
        wired = dynamo_wire.install(boto3.client("dynamodb", region_name="us-east-1", endpoint_url=endpoint_url))
        model = MODEL.operation_model("TransactWriteItems")
        theirs, ours = {}, {}
        assert (wired._ruleset_resolver.construct_endpoint(model, args, ours)
                == plain._ruleset_resolver.construct_endpoint(model, args, theirs))
        assert ours == theirs  # the features it notes for the user agent too
        assert (wired._ruleset_resolver._get_provider_params(model, args, {})["ResourceArnList"]
                == ["siyu", "siyu", "other"])


# ---- Signature V4 with the repeated work left out --------------------------------------------------------------

def _signed(auth_class, credentials, region, url, body, headers, when):
    from botocore.awsrequest import AWSRequest

    request = AWSRequest(method="POST", url=url, data=body, headers=dict(headers))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("botocore.auth.get_current_datetime", lambda: when)
        auth_class(credentials, "dynamodb", region).add_auth(request)
    return dict(request.headers.items())


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/", "https://dynamodb.ap-east-1.amazonaws.com/",
                                 "https://dynamodb.us-east-1.amazonaws.com/a%20b/?x=1&b=2"])
def test_a_request_is_signed_as_botocore_signs_it(url):
    from datetime import datetime

    from botocore.auth import SigV4Auth
    from botocore.credentials import Credentials

    headers = {"X-Amz-Target": "DynamoDB_20120810.Query", "Content-Type": "application/x-amz-json-1.0",
               "User-Agent": "Boto3/1.44.8 md/Botocore#1.44.8", "X-Custom": "  two   spaces  ",
               "Authorization": "an old one, from an earlier attempt"}
    for secret, token in (("s3cr3t", None), ("rotated", "a-session-token")):
        credentials = Credentials("AKIDEXAMPLE", secret, token).get_frozen_credentials()
        for region in ("us-east-1", "ap-east-1"):
            for day in (1, 2, 1):  # a new day derives a new key; the first day's is still right
                when = datetime(2026, 12, day, 1, 2, 3)
                for body in (b"", b'{"TableName":"siyu"}', '{"名":"值"}'.encode()):
                    ours = _signed(dynamo_wire.WireSigV4Auth, credentials, region, url, body, headers, when)
                    theirs = _signed(SigV4Auth, credentials, region, url, body, headers, when)
                    assert ours == theirs
                    assert ours["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/202612")


def test_the_wired_client_sends_the_headers_a_plain_client_sends(monkeypatch):
    from datetime import datetime

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: datetime(2026, 12, 1, 1, 2, 3))
    sent = []

    def capture(request, **kwargs):
        sent.append({k: v for k, v in request.headers.items() if k not in ("amz-sdk-invocation-id",)})
        raise RuntimeError("not sent")  # stop before the network

    params = {"TransactItems": [{"Put": {"TableName": "siyu", "Item": ITEM}}], "ClientRequestToken": "t-1"}
    # Each from a session of its own: how a session found its credentials is a feature its clients' user agent
    # names, and a second client of one session finds them already found.
    for client in (boto3.session.Session().client("dynamodb", region_name="us-east-1",
                                                  endpoint_url="http://127.0.0.1:9"),
                   dynamo_wire.install(boto3.session.Session().client("dynamodb", region_name="us-east-1",
                                                                      endpoint_url="http://127.0.0.1:9"))):
        client.meta.events.register("before-send.dynamodb", capture)
        with pytest.raises(RuntimeError):
            client.transact_write_items(**params)
    assert isinstance(client._request_signer, dynamo_wire.WireRequestSigner)
    assert len(sent) == 2 and sent[0] == sent[1] and "Authorization" in sent[1]
