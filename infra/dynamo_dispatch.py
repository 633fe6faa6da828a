"""pynamodb's `Connection.dispatch` without the work nobody receives (issue 15, engine CPU).

Every request the store sends (an event's Query and its TransactWriteItems) goes through `Connection.dispatch`,
which before botocore's call asks for the consumed capacity, logs the request, draws a random request id
(`uuid.uuid4()`) and sends pynamodb's `pre_dynamodb_send` and `post_dynamodb_send` signals around the call, then
logs the capacity consumed. With no receiver connected to either signal and debug logging off (a Lambda's normal
state) the id, the signals and the log lines reach nobody, yet the id and the signals alone cost more than the rest.

`dispatch` is pynamodb's own whenever a receiver is connected or debug logging is on; otherwise it adds the same
`ReturnConsumedCapacity` the same way and makes the request (a receiver connected or debug turned on during the
call still gets what follows the call). The request itself is pynamodb's own `_make_api_call` (its error
wrapping unchanged). `install` puts it in pynamodb's place (`infra.db.bind`), so whatever wraps `Connection.dispatch`
(a test's capture, bench/cpu.py's counter) wraps this one. `tests/unit/test_dynamo_dispatch.py` runs both side by
side: the same request, answer, errors, log records and signals.
"""

from __future__ import annotations

import logging
import uuid

from pynamodb.connection import base
from pynamodb.connection.base import Connection
from pynamodb.constants import (CAPACITY_UNITS, CONSUMED_CAPACITY, CREATE_TABLE, DELETE_TABLE, DESCRIBE_TABLE,
                                LIST_TABLES, RETURN_CONSUMED_CAPACITY, TABLE_NAME, TOTAL, UPDATE_TABLE,
                                UPDATE_TIME_TO_LIVE)
from pynamodb.signals import post_dynamodb_send, pre_dynamodb_send

PYNAMODB_DISPATCH = Connection.dispatch
_CAPACITY_MAP = Connection.get_consumed_capacity_map
# The operations pynamodb sends without asking for the consumed capacity (its list in `dispatch`).
_UNMETERED = frozenset((DESCRIBE_TABLE, LIST_TABLES, UPDATE_TABLE, UPDATE_TIME_TO_LIVE, DELETE_TABLE, CREATE_TABLE))
_TOTAL = TOTAL.upper()
_DEBUG = logging.DEBUG
# blinker's signals keep their receivers in `receivers`; without blinker pynamodb's signals receive nothing.
_SIGNALLED = hasattr(pre_dynamodb_send, "receivers") and hasattr(post_dynamodb_send, "receivers")


def dispatch(self: Connection, operation_name: str, operation_kwargs: dict) -> dict:
    """`Connection.dispatch` of pynamodb 6: pynamodb's own whenever a signal has a receiver or debug logging is on
    (the same ids, signals and log records, from pynamodb's own lines); otherwise only the steps that reach anyone:
    the consumed capacity asked for as pynamodb asks for it, and the request."""
    log = base.log
    if (_SIGNALLED and (pre_dynamodb_send.receivers or post_dynamodb_send.receivers)) or log.isEnabledFor(_DEBUG):
        return PYNAMODB_DISPATCH(self, operation_name, operation_kwargs)
    if operation_name not in _UNMETERED and RETURN_CONSUMED_CAPACITY not in operation_kwargs:
        if type(self).get_consumed_capacity_map is _CAPACITY_MAP:
            operation_kwargs[RETURN_CONSUMED_CAPACITY] = _TOTAL  # (the map's one entry, added as `update` adds it)
        else:
            operation_kwargs.update(self.get_consumed_capacity_map(TOTAL))
    data = self._make_api_call(operation_name, operation_kwargs)
    # Someone started listening during the call: what pynamodb would have sent or logged after it.
    if _SIGNALLED and post_dynamodb_send.receivers:
        self.send_post_boto_callback(operation_name, uuid.uuid4(), operation_kwargs.get(TABLE_NAME))
    if data and CONSUMED_CAPACITY in data and log.isEnabledFor(_DEBUG):
        capacity = data.get(CONSUMED_CAPACITY)
        if isinstance(capacity, dict) and CAPACITY_UNITS in capacity:
            capacity = capacity.get(CAPACITY_UNITS)
        log.debug("%s %s consumed %s units", data.get(TABLE_NAME, ''), operation_name, capacity)
    return data


def install() -> None:
    """Put `dispatch` in place of pynamodb's own, once (a wrapper already there, e.g. a test's, is left alone)."""
    if Connection.dispatch is PYNAMODB_DISPATCH:
        Connection.dispatch = dispatch  # type: ignore[method-assign]
