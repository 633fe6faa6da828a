"""Lambda entry point for the daily sweep's queue (serverless.yml `sweepWorker`, rules/fanout.py).

Each SQS record is a batch of one day's due members, or `coordinate` (call the coordinator back). A record that
fails is reported alone (`batchItemFailures`, the event source mapping's ReportBatchItemFailures) so SQS delivers
only it again; the batch's members already done answer as duplicates.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from infra import runtime

logger = logging.getLogger("siyu.sweep")


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    failures = []
    for record in (event or {}).get("Records", []):
        try:
            message = json.loads(record["body"])
            summary = runtime.engine().sweep_message(message)
            logger.info("sweep message %s: %s members, %d effects", record.get("messageId"), summary.members,
                        len(summary.effects))
        except Exception as error:  # noqa: BLE001 - this record alone comes back (then the dead-letter queue)
            logger.warning("sweep message %s failed: %s", record.get("messageId"), type(error).__name__)
            failures.append({"itemIdentifier": record.get("messageId")})
    return {"batchItemFailures": failures}
