"""Store methods translate passing DynamoDB trouble once: a second wrapper only re-raised what the first raised."""

from __future__ import annotations

import functools

import pytest
from botocore.exceptions import ClientError

from infra.dynamo_errors import translating
from rules.errors import StoreUnavailable


def _throttled():
    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")


def _refused():
    raise ClientError({"Error": {"Code": "ValidationException", "Message": "no"}}, "Query")


def test_every_public_method_of_the_store_is_wrapped_once():
    from infra.dynamo_store import DynamoStore

    wrapped = [name for name, value in vars(DynamoStore).items() if callable(value) and hasattr(value, "__wrapped__")]
    assert "load_member" in wrapped and "commit_event" in wrapped
    for name in wrapped:
        inner = getattr(DynamoStore, name).__wrapped__
        assert getattr(inner, "__code__", None) is not getattr(DynamoStore, name).__code__, name


def test_wrapping_a_translating_function_again_changes_nothing():
    once = translating(_throttled)
    assert translating(once) is once
    with pytest.raises(StoreUnavailable) as raised:
        once()
    assert isinstance(raised.value.__cause__, ClientError)
    with pytest.raises(ClientError):
        translating(_refused)()


def test_a_function_another_decorator_wraps_around_a_translating_one_is_still_wrapped():
    @functools.wraps(translating(_refused))
    def other(*args, **kwargs):
        return _throttled()

    assert translating(other) is not other
    with pytest.raises(StoreUnavailable):
        translating(other)()
