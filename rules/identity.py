"""WeChat identifiers (openid, unionid): kept only as keyed hashes, like phone numbers.

An openid names one person to one mini-program for good; stored or logged as-is it would let anyone holding the
table (or a log) follow that person. With the key, the same openid always hashes the same way, so lookups work;
without it, the hashes say nothing. The kind is part of the hashed text, so an openid and a unionid that happen
to be equal never share a hash.
"""

from __future__ import annotations

import hashlib
import hmac

from rules.errors import InvalidInput

MAX_LENGTH = 128


def check(name: str, value: str) -> str:
    """The identifier as given, if it could be one WeChat issues."""
    if not (0 < len(value) <= MAX_LENGTH and value.isprintable() and " " not in value):
        raise InvalidInput(name, "invalid.identifier", name=name, max=MAX_LENGTH)
    return value


def identity_hash(kind: str, value: str, key: str) -> str:
    return hmac.new(key.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
