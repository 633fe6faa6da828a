"""Lambda entry point for the table's change stream (DynamoDB Streams, batched by the event source mapping).

Off the event path: the business events' own function never waits for it. It answers with the records it could not
apply (`ReportBatchItemFailures`): Lambda hands the batch again from the first of them, and records applied before
are recognised and not counted twice. A record that keeps failing goes to the stream's on-failure queue.
"""

from __future__ import annotations

import logging
from typing import Any

from infra import runtime

logger = logging.getLogger("siyu.stream")


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    records = (event or {}).get("Records", [])
    failed = runtime.consume_stream(records)
    logger.info("stream batch: %d records, %d not applied", len(records), len(failed))
    return {"batchItemFailures": [{"itemIdentifier": sequence} for sequence in failed[:1]]}
