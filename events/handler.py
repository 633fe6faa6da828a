"""Lambda entry point for EventBridge: one business event or one scheduled sweep per invocation.

Returns the summary in CONTRACT.md: the event id, its status (`applied`, `duplicate`, `rejected`, `ignored`, or
`failed` when a plugin raised), the effects applied with their explanations, and the count per plugin. A rejected
or failed event is recorded for staff and returns normally (retrying it would fail the same way); an
infrastructure error (throttling, a timeout) raises, so Lambda retries and then sends it to the dead-letter queue.
"""

from __future__ import annotations

import logging
import os
from typing import Any

logger = logging.getLogger("siyu.events")


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    # Imported on the first invocation, not when Lambda loads the module (README, "Cold-start cost": the import
    # is quick, the first invocation pays for the engine, the store and the families; later ones find them loaded).
    _precompiled()
    from infra import runtime

    summary = runtime.deliver(event)
    logger.info("event %s %s: %d effects", summary["eventId"], summary["status"], len(summary["effects"]))
    return summary


def _precompiled() -> None:
    # What the artifact keeps ready (README, "Cold-start cost"): the methods dataclasses generate, installed before
    # the first dataclass is made (infra/dataclass_code.py), and botocore's parsed data (infra/botocore_data.py).
    from infra import botocore_data, dataclass_code

    dataclass_code.install()
    botocore_data.install()


if os.environ.get("SIYU_BUILD_AT_INIT") == "1":  # provisioned concurrency: build during init, before any event
    _precompiled()
    from infra import runtime as _runtime

    _runtime.engine()
