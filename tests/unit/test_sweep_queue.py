"""The daily sweep's SQS queue and worker: every batch arrives, a listing is given up only after RELIST_AFTER,
and a record the worker cannot take is reported alone for SQS to deliver again."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import boto3

from events import sweep_worker
from infra.sweep_queue import SqsSweepQueue
from rules import fanout
from rules.sweeps import SweepRun
from tests.helpers import mock_aws_beside_the_embedded_server

NOW = datetime(2026, 3, 1, 16, tzinfo=timezone.utc)


def test_every_batch_sent_arrives_once_on_the_queue():
    with mock_aws_beside_the_embedded_server():
        sqs = boto3.client("sqs", region_name="ap-northeast-1")
        url = sqs.create_queue(QueueName="siyu-test-sweep")["QueueUrl"]
        queue = SqsSweepQueue(url, client=sqs)
        messages = [fanout.batch_message("daily", "e1", NOW, NOW, "1", n, [("b", f"m{n}")]) for n in range(1, 24)]
        queue.send(messages)
        received = []
        while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            received += [json.loads(m["Body"]) for m in batch]
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)])
        assert sorted(m["number"] for m in received) == list(range(1, 24))


def test_a_queued_listing_is_given_up_only_after_relist_after():
    queue = SqsSweepQueue("https://sqs.example/queue", client=object())
    run = SweepRun(until=NOW, attempt="1", opened_at=NOW, covers=frozenset({"b"}), total=3, done=1)
    assert not queue.abandoned(run, NOW + timedelta(hours=1))
    assert queue.abandoned(run, NOW + fanout.RELIST_AFTER + timedelta(minutes=1))
    # A listing whose coordinator died before it handed everything out is listed again at once.
    assert queue.abandoned(SweepRun(until=NOW, attempt="1", opened_at=NOW, covers=frozenset({"b"})), NOW)


def test_a_record_the_worker_cannot_read_is_reported_alone():
    answer = sweep_worker.handler({"Records": [{"messageId": "bad", "body": "{not json"}]})
    assert answer == {"batchItemFailures": [{"itemIdentifier": "bad"}]}


def test_the_in_process_queue_gives_up_a_run_it_does_not_hold_batches_of():
    queue = fanout.InProcessQueue()
    run = SweepRun(until=NOW, attempt="2", opened_at=NOW, covers=frozenset({"b"}), total=1)
    assert queue.abandoned(run, NOW)
    queue.send([fanout.batch_message("daily", "e", NOW, NOW, "2", 1, [("b", "m")])])
    assert not queue.abandoned(run, NOW)


def test_mocking_sqs_leaves_the_suites_shared_table_in_place(store, dynamodb):
    with mock_aws_beside_the_embedded_server():
        boto3.client("sqs", region_name="ap-northeast-1").create_queue(QueueName="siyu-test-kept")
    assert "siyu-test" in dynamodb.list_tables()["TableNames"]
