"""Identifiers. Ledger entry ids sort by time, so a member's history reads newest first with one Query."""

from __future__ import annotations

import functools
import hashlib
import secrets
from datetime import datetime, timezone

# No 0/O, 1/I/L: referral codes are read aloud and typed on phones.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_member_id() -> str:
    return "m_" + secrets.token_hex(8)


def new_referral_code(length: int = 8) -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))


def time_key(at: datetime) -> str:
    """A fixed-width UTC timestamp that sorts as text: 20261125T221500.000000Z."""
    if type(at) is datetime and at.tzinfo is timezone.utc:
        return _utc_time_key(at)
    return _time_key(at)


@functools.lru_cache(maxsize=256)
def _utc_time_key(at: datetime) -> str:
    """`time_key` of a plain UTC datetime, remembered: one event's write names the same few instants (its time, a
    lot's expiry) in several keys (issue 15, engine CPU). Equal UTC datetimes are the same instant, so they have one
    text. tests/unit/test_engine_fast_paths.py and tests/unit/test_time_key_cache.py compare it with strftime."""
    return _time_key(at)


def _time_key(at: datetime) -> str:
    utc = at.astimezone(timezone.utc)
    if utc.year < 1000:  # how strftime writes a short year depends on the C library: left to it
        return utc.strftime("%Y%m%dT%H%M%S.%fZ")
    # strftime's text for every other year, formatted by Python alone (about twice as fast, once per ledger entry;
    # tests/unit/test_engine_fast_paths.py compares the two)
    return (f"{utc.year}{utc.month:02d}{utc.day:02d}T{utc.hour:02d}{utc.minute:02d}{utc.second:02d}"
            f".{utc.microsecond:06d}Z")


def entry_id(at: datetime, seed: str | None = None) -> str:
    """A time-sortable entry id; with a seed (an event id, an idempotency key) the id is deterministic.

    Entry ids only need to be unique within one member's ledger, so a member's own idempotency key is seed enough.
    """
    suffix = hashlib.sha256(seed.encode()).hexdigest()[:12] if seed else secrets.token_hex(6)
    return f"{time_key(at)}-{suffix}"
