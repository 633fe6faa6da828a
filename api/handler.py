"""Lambda entry point for API Gateway HTTP API (payload 2.0): mangum over `api.app:app`.

The app (strawberry's schema, the store, the families) is built on the first request rather than when Lambda loads
this module: the import stays small and the first request pays for it once (README, "Cold-start cost"). With
provisioned concurrency, whose init runs before any request, set SIYU_BUILD_AT_INIT=1 to build it at import instead.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_mangum = None
_lock = threading.Lock()


def _app_handler() -> Any:
    global _mangum
    if _mangum is None:
        with _lock:
            if _mangum is None:
                # What the artifact keeps ready (README, "Cold-start cost"): the methods dataclasses generate
                # (strawberry's types and the families' values are dataclasses, each compiling up to six methods
                # otherwise; infra/dataclass_code.py) and botocore's parsed data (infra/botocore_data.py).
                from infra import botocore_data, dataclass_code

                dataclass_code.install()
                botocore_data.install()
                from mangum import Mangum

                from api.app import app

                _mangum = Mangum(app, lifespan="off")
    return _mangum


def handler(event: dict, context: Any) -> dict:
    return _app_handler()(event, context)


if os.environ.get("SIYU_BUILD_AT_INIT") == "1":
    _app_handler()
