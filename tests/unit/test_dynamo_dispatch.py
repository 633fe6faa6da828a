"""A request through `infra.dynamo_dispatch.dispatch` is the request pynamodb's own `Connection.dispatch` sends: the
same parameters in the same order, the same answer and errors, and whoever listens (pynamodb's signals, its debug
log) gets what pynamodb gives them."""

from __future__ import annotations

import logging
import uuid

import pytest
from botocore.exceptions import ClientError
from pynamodb.connection.base import Connection
from pynamodb.exceptions import VerboseClientError
from pynamodb.signals import post_dynamodb_send, pre_dynamodb_send

from infra import dynamo_dispatch

THEIRS, OURS = dynamo_dispatch.PYNAMODB_DISPATCH, dynamo_dispatch.dispatch
ANSWER = {"Items": [], "Count": 0, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}}


class Client:
    """botocore's client as pynamodb calls it: each request recorded, then answered or refused."""

    def __init__(self, answer, error):
        self.sent, self.answer, self.error = [], answer, error

    def _make_api_call(self, operation_name, operation_kwargs):
        self.sent.append((operation_name, list(operation_kwargs.items())))
        if self.error is not None:
            raise self.error
        return self.answer


class Recorded(Connection):
    """pynamodb's connection (its `_make_api_call` and error wrapping) on a recorded client."""

    def __init__(self, answer=None, error=None):
        super().__init__(region="us-east-1")
        self.recorded = Client(answer, error)

    @property
    def client(self):
        return self.recorded

    @property
    def sent(self):
        return self.recorded.sent


def both(operation, kwargs, **connection):
    """(what each way sent and answered or raised), pynamodb's first."""
    results = []
    for way in (THEIRS, OURS):
        conn = Recorded(**connection)
        try:
            answer = way(conn, operation, dict(kwargs))
        except Exception as error:  # noqa: BLE001 - compared below
            answer = (type(error), str(error), getattr(error, "cause_response_code", None))
        results.append((conn.sent, answer))
    return results


@pytest.mark.parametrize("operation,kwargs", [
    ("Query", {"TableName": "t", "KeyConditionExpression": "#0 = :0", "ConsistentRead": True}),
    ("TransactWriteItems", {"TransactItems": [], "ClientRequestToken": "x"}),
    ("Query", {"TableName": "t", "ReturnConsumedCapacity": "NONE"}),
    ("DescribeTable", {"TableName": "t"}),
    ("CreateTable", {"TableName": "t"}),
    ("ListTables", {}),
])
def test_every_request_is_sent_and_answered_as_pynamodb_sends_it(operation, kwargs):
    theirs, ours = both(operation, kwargs, answer=ANSWER)
    assert ours == theirs
    assert both(operation, kwargs, answer=None)[0] == both(operation, kwargs, answer=None)[1]


def test_a_failed_request_fails_as_pynamodb_makes_it_fail():
    error = ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"},
                         "ResponseMetadata": {"HTTPHeaders": {"x-amzn-requestid": "r1"}}}, "Query")
    theirs, ours = both("Query", {"TableName": "t"}, error=error)
    assert ours == theirs and ours[1][0] is VerboseClientError


def test_receivers_of_pynamodbs_signals_get_what_pynamodb_sends_them():
    got = []

    def pre(sender, **kw):
        got.append(("pre", type(sender), kw["operation_name"], kw["table_name"], type(kw["req_uuid"])))

    def post(sender, **kw):
        got.append(("post", type(sender), kw["operation_name"], kw["table_name"], type(kw["req_uuid"])))

    pre_dynamodb_send.connect(pre)
    post_dynamodb_send.connect(post)
    try:
        seen = []
        for way in (THEIRS, OURS):
            got.clear()
            way(Recorded(answer=ANSWER), "Query", {"TableName": "t"})
            seen.append(list(got))
        assert seen[0] == seen[1] == [("pre", Recorded, "Query", "t", uuid.UUID),
                                      ("post", Recorded, "Query", "t", uuid.UUID)]
    finally:
        pre_dynamodb_send.disconnect(pre)
        post_dynamodb_send.disconnect(post)
    assert not pre_dynamodb_send.receivers and not post_dynamodb_send.receivers


def test_a_receiver_connected_during_the_call_gets_the_post_signal():
    got = []

    def post(sender, **kw):
        got.append((kw["operation_name"], kw["table_name"]))

    class Connecting(Recorded):
        def _make_api_call(self, operation_name, operation_kwargs):  # pynamodb's, as the receiver connects
            post_dynamodb_send.connect(post)
            return super()._make_api_call(operation_name, operation_kwargs)

    try:
        for way in (THEIRS, OURS):
            way(Connecting(answer=ANSWER), "Query", {"TableName": "t"})
            post_dynamodb_send.disconnect(post)
        assert got == [("Query", "t"), ("Query", "t")]
    finally:
        post_dynamodb_send.disconnect(post)


def test_debug_logging_gets_pynamodbs_own_records(caplog):
    records = []
    for way in (THEIRS, OURS):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="pynamodb.connection.base"):
            way(Recorded(answer=ANSWER), "Query", {"TableName": "t"})
        records.append([(r.name, r.levelno, r.getMessage(), r.pathname, r.lineno, r.funcName)
                        for r in caplog.records])
    assert records[0] == records[1] and len(records[0]) == 2


def test_binding_the_models_puts_it_in_pynamodbs_place_once(dynamodb_endpoint, monkeypatch):
    assert Connection.dispatch is OURS  # (the session's store was bound: `infra.db.bind`)
    dynamo_dispatch.install()
    assert Connection.dispatch is OURS
    # A wrapper put there (a test's capture) stays, and wraps ours.
    monkeypatch.setattr(Connection, "dispatch", lambda self, operation, kwargs: OURS(self, operation, kwargs))
    dynamo_dispatch.install()
    assert Connection.dispatch is not OURS
