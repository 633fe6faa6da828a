"""moto's server, embedded in this process, as the local DynamoDB endpoint (no Docker, no Java).

moto applies a TransactWriteItems by checking every condition and then writing, with no lock between the two, and
restores a table snapshot when a transaction fails. Two requests in flight at once could therefore interleave
in ways DynamoDB never allows (both pass their checks, or one's rollback erases the other's write). DynamoDB
serialises conflicting transactions; here every request is applied one at a time, which gives the same
guarantee. Clients still send their requests concurrently, over real HTTP, from as many threads as they like.

moto also snapshots every table a transaction touches, whole, before applying it: each write would cost time in
proportion to the table's size. Since requests are applied one at a time here, a transaction is rolled back by
restoring just the items it touched, which is what `_transact_write_items` does around moto's own implementation.

Likewise moto answers every Query by sorting the whole table and then filtering it; both of its query paths sort
what they keep anyway. `_query` hands a table query just its partition, and an index query the items unsorted, so
a Query costs what DynamoDB's would rather than the size of the table (tests with 20,000 members stay quick).
Scans, which need moto's order for pagination, are untouched.

With a `data_file`, the tables are saved to it (a pickle of moto's tables, written under the same lock as requests,
so never half a transaction) a moment after each write and on stop, and loaded from it on start: `make dev` keeps
its data across restarts. A file moto cannot read back (another moto version) is set aside and the store starts
empty.
"""

from __future__ import annotations

import copy
import os
import pickle
import threading
from pathlib import Path
from typing import Any, Callable, Iterable

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server


_READS = ("GetItem", "BatchGetItem", "Query", "Scan", "DescribeTable", "ListTables", "DescribeTimeToLive",
          "TransactGetItems", "DescribeContinuousBackups", "ListTagsOfResource")


class _OneAtATime:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self._app = app
        self.lock = threading.Lock()
        self.writes = 0  # requests that may have changed something: the saver compares it with what it saved

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if not target.endswith(_READS):
                self.writes += 1
            # Materialise the body under the lock: the work happens while it is produced.
            return list(self._app(environ, start_response))


_moto_transact_write_items = DynamoDBBackend.transact_write_items
_whole_table_snapshots = threading.local()


def _table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
    if getattr(_whole_table_snapshots, "skip", False):
        return self  # inside a transaction: the touched items are snapshotted instead
    clone = self.__class__.__new__(self.__class__)
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    snapshots: dict[tuple[str, Any, Any], tuple[Table, Any, Any, Any]] = {}
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName"))
        if table is None:
            continue
        key = op.get("Key") or op.get("Item") or {}
        if table.hash_key_attr not in key or (table.range_key_attr and table.range_key_attr not in key):
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
        marker = (table.name, hash_value, range_value)
        if marker not in snapshots:
            current = table.get_item(hash_value, range_value)
            snapshots[marker] = (table, hash_value, range_value, copy.deepcopy(current))
    # DynamoDB streams a transaction's writes only if it commits; moto streams each write as it applies it, so
    # what a cancelled transaction streamed is taken back with it (the KPIs would count it otherwise).
    streamed = {id(t): (t.stream_shard, len(t.stream_shard.items)) for t, _, _, _ in snapshots.values()
                if t.stream_shard is not None}
    _whole_table_snapshots.skip = True
    try:
        _moto_transact_write_items(self, transact_items)
    except BaseException:
        for shard, length in streamed.values():
            del shard.items[length:]
        for table, hash_value, range_value, original in snapshots.values():
            if range_value is None:
                if original is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = original
            elif original is None:
                table.items.get(hash_value, {}).pop(range_value, None)
            else:
                table.items[hash_value][range_value] = original
        raise
    finally:
        _whole_table_snapshots.skip = False


_moto_query = Table.query
_moto_all_items = Table.all_items
_query_scope = threading.local()


def _all_items(self: Table) -> list[Any]:
    scope = getattr(_query_scope, "partition", None)
    if scope is None:
        return _moto_all_items(self)
    if isinstance(scope, tuple):  # an index query: only items whose index hash key matches, unsorted
        attribute, value = scope
        return [item for group in self.items.values()
                for item in (group.values() if self.range_key_attr else [group])
                if attribute in item.attrs and item.attrs[attribute] == value]
    if scope is _ANY_PARTITION:
        return [item for group in self.items.values()
                for item in (group.values() if self.range_key_attr else [group])]
    group = self.items.get(scope)
    if group is None:
        return []
    return list(group.values()) if self.range_key_attr else [group]


_ANY_PARTITION = object()


def _query(self: Table, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
    index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)  # moto passes it positionally
    conditions = kwargs.get("hash_key_conditions") or []
    if index_name and len(conditions) == 1:
        _query_scope.partition = tuple(conditions[0])
    else:
        _query_scope.partition = _ANY_PARTITION if index_name or hash_key is None else hash_key
    try:
        return _moto_query(self, hash_key, *args, **kwargs)
    finally:
        _query_scope.partition = None


Table.all_items = _all_items  # type: ignore[method-assign]
Table.query = _query  # type: ignore[method-assign]
Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]


class _QuietHandler(MotoRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """Request lines are noise here; errors still surface through the clients."""


def _backends():
    from moto.dynamodb.models import dynamodb_backends

    for account, regions in list(dynamodb_backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


class EmbeddedDynamoDB:
    SAVE_DELAY_SECONDS = 1.0

    def __init__(self, host: str = "127.0.0.1", port: int = 0, data_file: str | os.PathLike | None = None) -> None:
        self._host = host
        self._port = port
        self._data_file = Path(data_file) if data_file else None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._app: _OneAtATime | None = None
        self._saved = 0
        self._stopping = threading.Event()
        self._saver: threading.Thread | None = None
        self.loaded_items = 0  # items read back from the data file on start

    def start(self) -> "EmbeddedDynamoDB":
        self._app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
        if self._data_file is not None:
            self._load()
        self._server = make_server(self._host, self._port, self._app, threaded=True, request_handler=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="embedded-dynamodb", daemon=True)
        self._thread.start()
        if self._data_file is not None:
            self._saver = threading.Thread(target=self._save_while_running, name="embedded-dynamodb-saver",
                                           daemon=True)
            self._saver.start()
        return self

    def _load(self) -> None:
        from moto.dynamodb.models import dynamodb_backends

        if not self._data_file.exists():
            return
        try:
            with self._data_file.open("rb") as f:
                saved = pickle.load(f)
            for (account, region), tables in saved.items():
                dynamodb_backends[account][region].tables.update(tables)
                self.loaded_items += sum(len(t) for t in tables.values())
        except Exception as error:  # noqa: BLE001 - an unreadable file must not stop the local stack
            aside = self._data_file.with_suffix(".unreadable")
            self._data_file.replace(aside)
            print(f"siyu: could not read {self._data_file} ({type(error).__name__}); moved to {aside}, "
                  "starting empty", flush=True)

    def save(self) -> None:
        """Write every table to the data file now (atomically: a crash leaves the previous file)."""
        if self._data_file is None or self._app is None:
            return
        with self._app.lock:
            writes = self._app.writes
            if writes == self._saved and self._data_file.exists():
                return
            data = pickle.dumps({(account, region): dict(backend.tables) for account, region, backend in _backends()
                                 if backend.tables}, protocol=pickle.HIGHEST_PROTOCOL)
        self._data_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._data_file.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(self._data_file)
        self._saved = writes

    def _save_while_running(self) -> None:
        while not self._stopping.wait(self.SAVE_DELAY_SECONDS):
            if self._app is not None and self._app.writes != self._saved:
                self.save()

    @property
    def endpoint(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._stopping.set()
        if self._saver is not None:
            self._saver.join(timeout=5)
            self._saver = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.save()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None


# ---- fault mode ------------------------------------------------------------------------------------------------
#
# Real DynamoDB refuses some requests that moto always grants: a transaction touching an item another transaction
# holds (TransactionCanceledException, reason TransactionConflict), throttling (ProvisionedThroughputExceeded), and
# answers that never arrive although the write was applied (a ReadTimeout after the commit). `Faults` makes the
# client answer so, through botocore's own event hooks on the client pynamodb uses: the error goes through
# botocore's error parsing and pynamodb's exception wrapping exactly as a real one would.

CONFLICT = "conflict"
THROTTLE = "throttle"
TIMEOUT_AFTER_COMMIT = "timeout-after-commit"


class Faults:
    """Answer matching requests with a fault: on every `nth` matching request, or on a `fraction` of them
    (deterministic for a given `seed`). Use as a context manager around the code under test:

        with Faults(db.client(), CONFLICT, fraction=0.05, seed=7) as faults:
            ...
        faults.injected  # how many requests were answered with the fault
    """

    def __init__(self, client: Any, kind: str = CONFLICT, *, operations: Iterable[str] = ("TransactWriteItems",),
                 nth: int | None = None, fraction: float | None = None, seed: int = 0,
                 limit: int | None = None) -> None:
        import random

        if kind not in (CONFLICT, THROTTLE, TIMEOUT_AFTER_COMMIT):
            raise ValueError(f"unknown fault {kind!r}")
        if (nth is None) == (fraction is None):
            raise ValueError("give either nth or fraction")
        self.client = client
        self.kind = kind
        self.operations = frozenset(operations)
        self.nth = nth
        self.fraction = fraction
        self.limit = limit
        self.seen = 0
        self.injected = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._id = f"siyu-faults-{id(self)}"

    def _chosen(self, operation: str) -> bool:
        if operation not in self.operations:
            return False
        with self._lock:
            if self.limit is not None and self.injected >= self.limit:
                return False
            self.seen += 1
            chosen = (self.seen % self.nth == 0) if self.nth else self._random.random() < self.fraction
            if chosen:
                self.injected += 1
            return chosen

    def _before(self, model: Any, params: Any, **kwargs: Any) -> Any:
        if self.kind == TIMEOUT_AFTER_COMMIT or not self._chosen(model.name):
            return None
        if self.kind == THROTTLE:
            body = {"Error": {"Code": "ProvisionedThroughputExceededException",
                              "Message": "The level of configured provisioned throughput for the table was "
                                         "exceeded (fault mode)"}}
        else:
            import json

            try:
                count = max(1, len(json.loads(params.get("body") or b"{}").get("TransactItems", [])))
            except (ValueError, AttributeError):
                count = 1
            reasons = [{"Code": "None"} for _ in range(count)]
            reasons[0] = {"Code": "TransactionConflict",
                          "Message": "Transaction is ongoing for the item (fault mode)"}
            body = {"Error": {"Code": "TransactionCanceledException",
                              "Message": "Transaction cancelled, please refer cancellation reasons for specific "
                                         "reasons [TransactionConflict] (fault mode)"},
                    "CancellationReasons": reasons}
        body["ResponseMetadata"] = {"HTTPStatusCode": 400, "HTTPHeaders": {}}
        return _FaultResponse(400), body

    def _after(self, http_response: Any, parsed: Any, model: Any, **kwargs: Any) -> None:
        if self.kind != TIMEOUT_AFTER_COMMIT or getattr(http_response, "status_code", 500) >= 300:
            return
        if self._chosen(model.name):
            from botocore.exceptions import ReadTimeoutError

            # The request was applied; its answer is lost on the way back.
            raise ReadTimeoutError(endpoint_url=str(getattr(self.client.meta, "endpoint_url", "")))

    def __enter__(self) -> "Faults":
        events = self.client.meta.events
        events.register_first("before-call.dynamodb", self._before, unique_id=self._id + "-before")
        events.register_first("after-call.dynamodb", self._after, unique_id=self._id + "-after")
        return self

    def __exit__(self, *exc: Any) -> None:
        events = self.client.meta.events
        events.unregister("before-call.dynamodb", self._before, unique_id=self._id + "-before")
        events.unregister("after-call.dynamodb", self._after, unique_id=self._id + "-after")


class _FaultResponse:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None
