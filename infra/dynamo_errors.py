"""What a DynamoDB failure means for the caller: a condition that failed (the domain decides), or trouble that
passes (another transaction held the item, throttling, a timeout), which the caller retries and, past its budget,
answers as `Busy`.

pynamodb wraps botocore's errors (`error.cause`); `PynamoDBException.cause_response_code` raises AttributeError when
the cause is a botocore error without a response (a ReadTimeout carries `response=None`), so codes are read here.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from rules.errors import StoreUnavailable

# Error codes of a whole request that say "not now", never "no".
TRANSIENT_CODES = frozenset({
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionConflictException", "TransactionInProgressException", "InternalServerError",
    "ServiceUnavailable", "LimitExceededException",
})
# Cancellation reasons of a TransactWriteItems that say "not now" (a ConditionalCheckFailed says "no").
TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
                               "RequestLimitExceeded"})
_TIMEOUT_NAMES = frozenset({"ReadTimeoutError", "ConnectTimeoutError", "EndpointConnectionError",
                            "ConnectionClosedError", "ConnectTimeout", "ReadTimeout"})

F = TypeVar("F", bound=Callable[..., Any])


def response_code(error: BaseException | None) -> str | None:
    """The DynamoDB error code of `error` (a pynamodb error or a botocore one), or None when there was no answer."""
    seen = 0
    while error is not None and seen < 5:
        response = getattr(error, "response", None)
        if isinstance(response, dict):
            code = (response.get("Error") or {}).get("Code")
            if code:
                return code
        error = getattr(error, "cause", None) or error.__cause__
        seen += 1
    return None


def _causes(error: BaseException | None):
    seen = 0
    while error is not None and seen < 5:
        yield error
        error = getattr(error, "cause", None) or error.__cause__
        seen += 1


def is_transient(error: BaseException) -> bool:
    """True when retrying the same request later may well succeed: throttling, timeouts, transaction conflicts."""
    if response_code(error) in TRANSIENT_CODES:
        return True
    for cause in _causes(error):
        if type(cause).__name__ in _TIMEOUT_NAMES:
            return True
        reasons = getattr(cause, "cancellation_reasons", None)
        if reasons and any(r is not None and r.code in TRANSIENT_REASONS for r in reasons):
            return True
    return False


def translating(function: F) -> F:
    """Re-raise passing DynamoDB trouble as `StoreUnavailable` (a `WriteConflict`): every caller's retry loop
    already reads again and retries those, and answers `Busy` past its budget. A function already translating is
    returned as it is: wrapped twice, the outer wrapper only re-raised what the inner one raised (the store's
    methods were, `_translate_public_methods` meeting them again on the class it had set them on)."""
    if getattr(function, "__code__", None) is _TRANSLATING:
        return function

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - classified, re-raised unchanged unless transient
            if is_transient(error):
                raise StoreUnavailable(f"{type(error).__name__}: {response_code(error) or 'no answer'}") from error
            raise

    return wrapper  # type: ignore[return-value]


_TRANSLATING: Any = None
_TRANSLATING = translating(lambda: None).__code__  # what every translating wrapper runs
