"""The objects one Lambda container (or the local stack) shares across requests: built once, on first use.

They hold nothing that must survive: the store caches brand configuration, the plugins are loaded once.
"""

from __future__ import annotations

import threading

import os
from typing import Any

from infra import db
from infra.dynamo_store import DynamoStore
from infra.settings import settings
from rules import sandbox
from rules.engine import Engine, EventBus


def _lambda_runner(timeout: float) -> Any:
    from infra.partner_lambda import LambdaRunner

    return LambdaRunner(os.environ["SIYU_PARTNER_FUNCTION_PREFIX"], timeout=timeout)


# In AWS, partner plugins run in Lambda functions of their own (SIYU_PARTNER_RUNNER=lambda, serverless.yml).
sandbox.install_runner("lambda", _lambda_runner)

_lock = threading.RLock()  # engine() builds store() and bus() while holding it
_store: DynamoStore | None = None
_engine: Engine | None = None
_bus: EventBus | None = None
_wechat = None


def store() -> DynamoStore:
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                config = settings()
                db.bind(config)
                archive = None
                if config.audit_bucket:
                    from infra.audit_archive import AuditArchive

                    archive = AuditArchive(config.audit_bucket)
                _store = DynamoStore(brand_cache_seconds=config.brand_cache_seconds, audit_archive=archive)
    return _store


def bus() -> EventBus:
    global _bus
    if _bus is None:
        with _lock:
            if _bus is None:
                name = settings().event_bus_name
                if name == "local":
                    from infra.eventbus import InProcessBus

                    _bus = InProcessBus(lambda event, _context: deliver(event))
                else:
                    from infra.eventbus import EventBridgeBus

                    _bus = EventBridgeBus(name)
    return _bus


def engine() -> Engine:
    global _engine
    if _engine is None:
        from rules.plugin_manager import registry

        plugins = registry()
        with _lock:
            if _engine is None:
                from datetime import datetime, timedelta, timezone

                from rules.time_sanity import TimeLimits

                config = settings()
                limits = TimeLimits(max_skew=timedelta(minutes=config.event_max_skew_minutes),
                                    max_age=timedelta(days=config.event_max_age_days))
                # The handler's clock is the receiving clock: what an envelope's time is judged against.
                queue = None
                if config.sweep_queue_url:
                    from infra.sweep_queue import SqsSweepQueue

                    queue = SqsSweepQueue(config.sweep_queue_url)
                _engine = Engine(store(), plugins, bus(), clock=lambda: datetime.now(timezone.utc), limits=limits,
                                 require_brand_source=config.require_brand_source, sweep_queue=queue)
    return _engine


def deliver(event: Any) -> dict[str, Any]:
    """One envelope through the engine, answered as the events Lambda answers it (the local bus, the CLI, the
    local scheduler; `events/handler.py` is this plus its log line)."""
    return engine().handle(event).as_dict()


def consume_stream(records: Any) -> list[str]:
    """A batch of the table's stream records through the families that count from them (the brand KPIs); the
    sequence numbers not applied (`events/stream.py` reports them back so the batch is retried from there)."""
    from infra import stream

    return stream.consume(store(), records)


def wechat():
    """The WeChat login-code exchange the settings name (infra/wechat.py)."""
    global _wechat
    if _wechat is None:
        with _lock:
            if _wechat is None:
                from infra.wechat import wechat_client

                _wechat = wechat_client(settings())
    return _wechat


def reset() -> None:
    """Forget everything (tests that change settings or plugins)."""
    global _store, _engine, _bus, _wechat
    with _lock:
        _store = _engine = _bus = _wechat = None
