"""The objects one Lambda container (or the local stack) shares across requests: built once, on first use.

They hold nothing that must survive: the store caches brand configuration, the plugins are loaded once.
"""

from __future__ import annotations

import threading

from infra import db
from infra.settings import settings
from infra.dynamo_store import DynamoStore
from rules.engine import Engine, EventBus

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
                    from events.handler import handler
                    from infra.eventbus import InProcessBus

                    _bus = InProcessBus(handler)
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
                _engine = Engine(store(), plugins, bus(), clock=lambda: datetime.now(timezone.utc), limits=limits,
                                 require_brand_source=config.require_brand_source)
    return _engine


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
