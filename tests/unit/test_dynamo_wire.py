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
