"""The direct wire path sends the bytes botocore would send and hands back the dicts botocore would parse."""

import base64
import json

import botocore.session
import pytest
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
    assert connection.client is client
