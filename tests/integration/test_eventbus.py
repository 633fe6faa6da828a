"""Follow-up events to EventBridge: batches of at most 10, and only the entries that failed are sent again."""

from datetime import datetime, timezone

import boto3
import pytest
from botocore.stub import Stubber

from infra.eventbus import EventBridgeBus, InProcessBus, envelope
from rules.engine import FollowUp

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def follow_ups(n):
    return [FollowUp(f"f{i:02d}", "tier.changed", T, {"brandId": "b", "memberId": f"m{i}", "id": f"f{i:02d}"})
            for i in range(n)]


@pytest.fixture
def events_client(dynamodb_endpoint):
    # The embedded moto server answers EventBridge too.
    client = boto3.client("events", endpoint_url=dynamodb_endpoint)
    client.create_event_bus(Name="siyu-test-bus")
    yield client
    client.delete_event_bus(Name="siyu-test-bus")


def test_23_follow_ups_go_out_in_three_put_events_calls(events_client):
    calls = []
    events_client.meta.events.register("before-parameter-build.events.PutEvents",
                                       lambda params, **kw: calls.append(len(params["Entries"])))
    EventBridgeBus("siyu-test-bus", events_client).publish(follow_ups(23))
    assert calls == [10, 10, 3]


def test_entries_that_eventbridge_refuses_are_sent_again_and_only_those():
    client = boto3.client("events", region_name="us-east-1")
    batch = follow_ups(3)
    bus = EventBridgeBus("siyu-test-bus", client)
    with Stubber(client) as stub:
        stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [
            {"EventId": "e0"}, {"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}, {"EventId": "e2"}]},
            {"Entries": [bus._entry(f) for f in batch]})
        stub.add_response("put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e1"}]},
                          {"Entries": [bus._entry(batch[1])]})
        bus.publish(batch)
        stub.assert_no_pending_responses()


def test_an_entry_refused_every_time_raises_so_the_event_is_retried():
    client = boto3.client("events", region_name="us-east-1")
    bus = EventBridgeBus("siyu-test-bus", client)
    (only,) = follow_ups(1)
    with Stubber(client) as stub:
        for _ in range(4):
            stub.add_response("put_events", {"FailedEntryCount": 1, "Entries": [{"ErrorCode": "InternalFailure"}]},
                              {"Entries": [bus._entry(only)]})
        with pytest.raises(RuntimeError):
            bus.publish([only])


def test_locally_a_follow_up_reaches_the_handler_in_the_eventbridge_envelope():
    received = []
    InProcessBus(lambda event, context: received.append(event)).publish(follow_ups(1))
    assert received == [envelope(follow_ups(1)[0])]
    assert received[0]["source"] == "siyu.engine" and received[0]["detail"]["id"] == "f00"
