"""Time helpers. Domain code never reads the wall clock: "now" is passed in (from the event, or by the adapter
that received a request), so time-travel tests are exact."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_time(value: str) -> datetime:
    """Parse an ISO-8601 time into an aware UTC datetime (a trailing Z is accepted)."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return parsed.astimezone(timezone.utc)


def iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def utc(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError("naive datetimes are not allowed in Siyu: give a timezone")
    return at.astimezone(timezone.utc)
