"""Phone numbers: normalised for uniqueness, hashed for lookup, masked for display. The number itself is never
stored or logged; only its keyed hash and its masked form leave this module."""

from __future__ import annotations

import hashlib
import hmac
import re

from rules.errors import InvalidInput

_SEPARATORS = re.compile(r"[\s\-().]")
_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise(raw: str) -> str:
    """Return the 11-digit mainland mobile number, accepting +86 / 0086 / 86 prefixes and common separators."""
    digits = _SEPARATORS.sub("", raw or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    if not _MAINLAND_MOBILE.match(digits):
        raise InvalidInput("phone", "invalid.phone")
    return digits


def phone_hash(normalised: str, key: str) -> str:
    """Keyed hash (HMAC-SHA256): without the key, the 10^10 possible numbers cannot be brute-forced from the table."""
    return hmac.new(key.encode(), normalised.encode(), hashlib.sha256).hexdigest()


def mask(normalised: str) -> str:
    """`138****8000`: the form shown to members and staff."""
    return f"{normalised[:3]}****{normalised[-4:]}"


def redact(text: str) -> str:
    """Mask anything in free text that looks like a mobile number (used by the log filter)."""
    return re.sub(r"(?<!\d)(?:\+?86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)", r"\1****\2", text)
