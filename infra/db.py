"""Binding the models to a table and an endpoint, and counting DynamoDB requests through botocore's event hooks."""

from __future__ import annotations

import threading
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

from infra import dynamo_dispatch, dynamo_wire
from infra.models import SiyuItem
from infra.settings import Settings, settings


def bind(config: Settings | None = None) -> None:
    """Point every model at the configured table and endpoint (botocore's own AWS_ENDPOINT_URL_DYNAMODB)."""
    config = config or settings()
    SiyuItem.Meta.table_name = config.table_name
    SiyuItem.Meta.region = config.region
    SiyuItem.Meta.host = config.dynamodb_endpoint
    # One connection (one botocore client) for every item kind: subclasses inherit it, so a request counter
    # registered on it sees every request the store makes.
    for cls in SiyuItem.__subclasses__():
        if "_connection" in vars(cls):
            delattr(cls, "_connection")
    SiyuItem._connection = None
    # The item operations skip botocore's shape walk (infra/dynamo_wire.py): same requests, same answers, less CPU.
    dynamo_wire.wire(SiyuItem._get_connection().connection)
    # pynamodb's per-request steps that reach nobody (signals without receivers, debug logs) skipped
    # (infra/dynamo_dispatch.py).
    dynamo_dispatch.install()


def client():
    """The botocore DynamoDB client behind the models."""
    return SiyuItem._get_connection().connection.client


class RequestCounter:
    """DynamoDB requests by operation name, e.g. {"Query": 1, "TransactWriteItems": 1}."""

    def __init__(self) -> None:
        self.by_operation: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, model, params, **kwargs) -> None:
        with self._lock:
            self.by_operation[model.name] += 1

    @property
    def total(self) -> int:
        return sum(self.by_operation.values())

    def reset(self) -> None:
        self.by_operation.clear()


@contextmanager
def count_requests() -> Iterator[RequestCounter]:
    counter = RequestCounter()
    events = client().meta.events
    events.register("before-call.dynamodb", counter, unique_id="siyu-request-counter")
    try:
        yield counter
    finally:
        events.unregister("before-call.dynamodb", unique_id="siyu-request-counter")
