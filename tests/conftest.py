"""Shared fixtures: one embedded moto DynamoDB server per test session, reached over real HTTP.

Tests isolate by brand (each test gets its own brand id); tests that need an empty table ask for `fresh_table`.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timezone

import boto3
import pytest

# Before anything reads the environment: never real AWS, never a developer's profile.
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
    SIYU_STAGE="local",
    TABLE_NAME="siyu-test",
    EVENT_BUS_NAME="local",
    # Installed partner plugins never leak into the suite; tests that want one load it explicitly.
    SIYU_PARTNER_PLUGINS="",
    # The suite replays historical scenarios (2025-2027 dates) against today's clock: time sanity is widened to
    # ten years either way here; tests of time sanity itself set the production defaults (test_time_sanity.py).
    SIYU_EVENT_MAX_SKEW_MINUTES=str(10 * 366 * 24 * 60),
    SIYU_EVENT_MAX_AGE_DAYS=str(10 * 366),
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_SESSION_TOKEN", None)

from infra import db, settings, table  # noqa: E402
from infra.embedded_dynamodb import EmbeddedDynamoDB  # noqa: E402
from infra.dynamo_store import DynamoStore  # noqa: E402
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig  # noqa: E402


@pytest.fixture(scope="session")
def dynamodb_endpoint():
    server = EmbeddedDynamoDB().start()
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = server.endpoint
    config = settings.reload()
    # The shared table streams nothing: moto keeps every stream record in memory and every write would pay for
    # one. Tests of the stream (the brand KPIs) use `fresh_table`, which has it, as the cloud's table does.
    table.create_table(boto3.client("dynamodb", endpoint_url=server.endpoint), config.table_name, stream=False)
    db.bind(config)
    yield server.endpoint
    server.stop()


@pytest.fixture
def dynamodb(dynamodb_endpoint):
    return boto3.client("dynamodb", endpoint_url=dynamodb_endpoint)


@pytest.fixture
def fresh_table(dynamodb_endpoint, dynamodb, monkeypatch):
    """A new, empty table for this test only (for tests that look at the whole table)."""
    name = f"siyu-test-{uuid.uuid4().hex[:8]}"
    table.create_table(dynamodb, name)
    monkeypatch.setenv("TABLE_NAME", name)
    db.bind(settings.reload())
    yield name
    monkeypatch.setenv("TABLE_NAME", "siyu-test")
    db.bind(settings.reload())
    dynamodb.delete_table(TableName=name)


@pytest.fixture
def store(dynamodb_endpoint):
    # A test of another AWS service mocks it with `tests.helpers.mock_aws_beside_the_embedded_server`: plain
    # `mock_aws` resets every moto backend of the process, this server's shared table included.
    return DynamoStore(brand_cache_seconds=60)


@pytest.fixture
def brand_id(store) -> str:
    """A brand of its own for this test, on 百果园's ladder."""
    brand = f"b{uuid.uuid4().hex[:10]}"
    store.put_brand(BrandConfig(brand, "测试品牌", BAIGUOYUAN_LADDER))
    return brand


@pytest.fixture(autouse=True)
def transactions_sent_as_pynamodb_sends_them(monkeypatch):
    """Every transaction the suite commits is checked, before it is sent, against the request pynamodb's own
    `TransactWrite` makes of the same items (tests/wire_reference.py): the commit's fast path (issue 15) is held to
    the same bytes on every flow the suite runs. It costs about 0.8 ms per commit: 2.5 s of the 575 s the suite's
    first 225 tests took (3139 commits; 1419 tests in all), so it stays suite-wide (under ~20 s in all).
    A transaction of `DynamoStore.commit_event`, whose items are written in their wire form, is also compared whole
    with the one the method's models made before (`commit_event_as_before`): its arguments are kept per thread
    while it runs (the suite's concurrent workers commit on threads of their own)."""
    import functools
    import threading

    from infra.dynamo_store import DynamoStore, processed_record_expiry
    from infra.transactions import Transaction
    from tests.wire_reference import Checked

    events = threading.local()
    real_commit_event = DynamoStore.commit_event

    @functools.wraps(real_commit_event)  # still the store's translated method to whoever inspects it
    def commit_event(store, record, change, side=()):
        try:
            events.current = (record, change, side, processed_record_expiry(record.at))
        except Exception:  # the method itself refuses such a record: nothing is sent to compare
            events.current = None
        try:
            return real_commit_event(store, record, change, side)
        finally:
            events.current = None

    real = Transaction.commit
    monkeypatch.setattr(DynamoStore, "commit_event", commit_event)
    monkeypatch.setattr(Transaction, "commit", lambda tx, connection: real(
        tx, Checked(connection, tx, getattr(events, "current", None))))


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


BUILT_INS = ("points", "tiers", "points_expiry")


@pytest.fixture
def plugins():
    from rules.plugin_manager import registry

    return registry()


@pytest.fixture
def rules_brand(store, plugins) -> str:
    """A brand on 百果园's ladder with the built-in plugins enabled at their presets."""
    brand = f"r{uuid.uuid4().hex[:10]}"
    enabled = {name: plugins.validate_params(name, {}) for name in BUILT_INS}
    store.put_brand(BrandConfig(brand, "百果园", BAIGUOYUAN_LADDER, plugins=enabled))
    return brand


@pytest.fixture
def bus():
    from infra.eventbus import InProcessBus

    return InProcessBus()


@pytest.fixture
def engine(store, plugins, bus):
    from rules.engine import Engine

    return Engine(store, plugins, bus)


@pytest.fixture
def configure(monkeypatch, dynamodb_endpoint):
    """Change settings through the environment for this test only: `configure(SIYU_STAGE="prod", ...)`."""
    from infra import runtime

    def apply(**env: str) -> settings.Settings:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        runtime.reset()
        return settings.reload()

    yield apply
    monkeypatch.undo()
    runtime.reset()
    settings.reload()
