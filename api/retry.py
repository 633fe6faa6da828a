"""How a mutation answers: its business failures as typed results, and contention as `Busy` after retries."""

from __future__ import annotations

import random
import time
from typing import Callable, TypeVar

from api.request import Context
from api.results import business_error
from rules import errors

T = TypeVar("T")

API_ATTEMPTS = 6
API_MAX_BACKOFF_SECONDS = 0.1


def typed(run: Callable[[], T], context: Context | None = None, convert: Callable = business_error):
    """Run a mutation; a business failure becomes its typed result instead of an error.

    Contention is an answer too: a conflict or passing DynamoDB trouble (`WriteConflict`, `StoreUnavailable`) that
    the domain did not absorb runs the mutation again after a jittered backoff, and past the budget it answers
    `Busy`. A `Busy` answer gives back the attempt it counted (the member was refused by the database, not by the
    limit)."""
    failure: errors.SiyuError
    for attempt in range(API_ATTEMPTS):
        try:
            return run()
        except errors.Busy as busy:
            failure = busy
            break
        except errors.SiyuError as refused:
            return convert(refused)
        except errors.WriteConflict:
            time.sleep(random.uniform(0, min(API_MAX_BACKOFF_SECONDS, 0.005 * 2**attempt)))
    else:
        failure = errors.Busy("the service is busy right now; nothing was changed, try again in a moment")
    if context is not None:
        context.release_attempts()
    return convert(failure)
