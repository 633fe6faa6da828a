"""Which event times Siyu believes: not further ahead of the receiving clock than a small skew, not older than a
maximum age. A brand system with a broken clock would otherwise write off valid points (a sweep dated next year),
back-date orders past every refund window (1970), or re-apply an event whose processed record has expired.

The receiving clock is the handler's (injected into the engine); rules keep using the event's own time.
Settings (README "Time sanity"): `SIYU_EVENT_MAX_SKEW_MINUTES` (15) and `SIYU_EVENT_MAX_AGE_DAYS` (30).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

SKEW_SETTING = "SIYU_EVENT_MAX_SKEW_MINUTES"
AGE_SETTING = "SIYU_EVENT_MAX_AGE_DAYS"


@dataclass(frozen=True)
class TimeLimits:
    max_skew: timedelta = timedelta(minutes=15)
    max_age: timedelta = timedelta(days=30)

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> "TimeLimits":
        env = os.environ if env is None else env
        return cls(max_skew=timedelta(minutes=_positive(env, SKEW_SETTING, 15)),
                   max_age=timedelta(days=_positive(env, AGE_SETTING, 30)))

    def refusal(self, at: datetime, received: datetime) -> str | None:
        """Why an event dated `at` and received at `received` is not believed, or None."""
        # Differences, not sums: a time near year 1 or 9999 must not overflow on its way to being refused.
        ahead = at - received
        if ahead > self.max_skew:
            return (f"the event time is {_span(ahead)} ahead of the receiving clock (at most "
                    f"{_span(self.max_skew)}, {SKEW_SETTING})")
        if -ahead > self.max_age:
            return f"the event is {_span(-ahead)} old (at most {_span(self.max_age)}, {AGE_SETTING})"
        return None


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = int(raw)
    if value < 1:
        raise RuntimeError(f"{name} must be a positive integer")
    return value


def _span(delta: timedelta) -> str:
    if delta >= timedelta(days=2):
        return f"{delta.days} days"
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minutes"
