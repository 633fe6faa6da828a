"""The daily sweep's queue in AWS: SQS (serverless.yml `SweepQueue`), read by the `sweepWorker` function.

SQS rather than Step Functions' Distributed Map: the work is already a list of small idempotent batches that the
coordinator makes while it reads the due index, which is exactly a queue's shape; a redelivered or retried batch
costs nothing but its duplicate answers; the dead-letter queue, its alarm and the event source mapping's
`maximumConcurrency` give the failure handling and the throttle with no state machine to define, version and pay
per state transition for; and locally the same messages go through the in-process queue (rules/fanout.py)
without emulating a workflow engine.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Sequence

import boto3

from rules.fanout import RELIST_AFTER
from rules.sweeps import SweepRun

# SendMessageBatch takes at most 10 messages (and 256 KB; a batch of 100 members is about 6 KB).
SEND_BATCH = 10


class SqsSweepQueue:
    in_process = False

    def __init__(self, queue_url: str, client: Any = None) -> None:
        self.queue_url = queue_url
        self.client = client or boto3.client("sqs")

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        for start in range(0, len(messages), SEND_BATCH):
            chunk = messages[start:start + SEND_BATCH]
            entries = [{"Id": str(n), "MessageBody": json.dumps(m, separators=(",", ":"))}
                       for n, m in enumerate(chunk)]
            for _ in range(5):
                answer = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
                failed = {f["Id"] for f in answer.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                # The coordinator raises: the listing stays unfinished and is listed again (a new attempt).
                raise RuntimeError(f"SQS refused {len(entries)} sweep batches")

    def abandoned(self, run: SweepRun, now: datetime) -> bool:
        # A listing that never finished (its coordinator timed out: Lambda retries the scheduled event) is listed
        # again at once; one whose batches are all out is given up only far later than any retry can take, since
        # workers elsewhere hold them.
        return run.total is None or now - run.opened_at > RELIST_AFTER
