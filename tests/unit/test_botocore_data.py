"""botocore's data read from the artifact's marshal file (infra/botocore_data.py) is the data its JSON holds, and a
client built from it sends the same requests."""

import marshal

import botocore.session
import pytest
from botocore import loaders
from botocore.awsrequest import AWSResponse

from infra import botocore_data


@pytest.fixture
def cache(tmp_path):
    botocore_data.uninstall()  # a handler called earlier in this process may have installed it
    path = tmp_path / "botocore_data.marshal"
    assert botocore_data.build(path) >= 4
    yield path
    botocore_data.uninstall()


def sent_requests(calls):
    """What a fresh session's clients put on the wire for each call (answered locally: nothing leaves)."""
    session = botocore.session.get_session()
    sent = []

    def answer(request, **_):
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("authorization", "x-amz-date",
                                                                                  "amz-sdk-invocation-id")}
        sent.append((request.method, request.url, headers, request.body))
        return AWSResponse(request.url, 200, {}, None)

    for service, operation, params in calls:
        client = session.create_client(service, region_name="ap-northeast-1", aws_access_key_id="k",
                                       aws_secret_access_key="s")
        client.meta.events.register("before-send", answer)
        try:
            getattr(client, operation)(**params)
        except Exception:  # noqa: BLE001 - the empty answer may not parse; the request is what is compared
            pass
    return sent


CALLS = [
    ("dynamodb", "get_item", {"TableName": "siyu", "Key": {"pk": {"S": "BRAND#b1"}, "sk": {"S": "CONFIG"}},
                              "ConsistentRead": True}),
    ("dynamodb", "transact_write_items", {"TransactItems": [
        {"Put": {"TableName": "siyu", "Item": {"pk": {"S": "M#1"}, "sk": {"S": "P"}, "n": {"N": "5"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {"TableName": "siyu", "Key": {"pk": {"S": "M#1"}, "sk": {"S": "Q"}},
                    "UpdateExpression": "ADD #b :p", "ExpressionAttributeNames": {"#b": "balance"},
                    "ExpressionAttributeValues": {":p": {"N": "3"}}}}],
                                          "ClientRequestToken": "order-paid-e1"}),
    ("dynamodb", "query", {"TableName": "siyu", "KeyConditionExpression": "pk = :p",
                           "ExpressionAttributeValues": {":p": {"S": "M#1"}}}),
    ("events", "put_events", {"Entries": [{"Source": "siyu.engine", "DetailType": "tier.changed", "Detail": "{}",
                                           "EventBusName": "siyu"}]}),
    ("sqs", "send_message", {"QueueUrl": "https://sqs.ap-northeast-1.amazonaws.com/1/q", "MessageBody": "{}"}),
]


def test_the_cached_data_is_what_botocores_json_holds(cache):
    assert botocore_data.load(cache)
    parsed = loaders.JSONFileLoader()
    root = botocore_data._root()
    assert any(key.endswith("dynamodb/2012-08-10/service-2") for key in botocore_data._data)
    for key in botocore_data._data:
        assert marshal.loads(botocore_data._data[key]) == parsed.load_file(f"{root}/{key}"), key


def test_clients_built_from_the_cache_send_the_requests_clients_built_from_json_send(cache):
    from_json = sent_requests(CALLS)
    assert botocore_data.install(cache)
    hits = botocore_data.stats["hits"]
    from_cache = sent_requests(CALLS)
    assert botocore_data.stats["hits"] > hits
    assert from_cache == from_json and len(from_json) == len(CALLS)


def test_a_cache_for_another_botocore_is_not_used(tmp_path):
    botocore_data.uninstall()
    stale = tmp_path / "stale"
    stale.write_bytes(b"botocore 0.0.1 (3, 11)\n" + b"\x00")
    assert not botocore_data.install(stale)
    assert loaders.Loader.FILE_LOADER_CLASS is loaders.JSONFileLoader
