"""What the HTTP layer answers when a request is not a GraphQL request at all: always JSON, always
`errors[0].extensions.code`, always 4xx for anything a client can send.

strawberry answers such requests with plain text, and some with a 500: a body of `null`, `1`, `true` or `"str"`
(it calls `.get` on it), JSON nested deeper than Python's recursion limit. Bodies are checked here before they are
decoded: their nesting depth is counted without recursion, and only a JSON object is a GraphQL request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cross_web import HTTPException
from starlette.responses import JSONResponse

from api.hardening import BAD_USER_INPUT, INTERNAL, NOT_FOUND
from rules import messages
from rules.free_text import clean

logger = logging.getLogger("siyu.api")

# Deeper than any GraphQL request needs (a simulated event's detail included), far from the recursion limit.
MAX_JSON_DEPTH = 64
_CODES = {404: NOT_FOUND}


def json_depth(data: bytes | str) -> int:
    """The deepest nesting of arrays and objects in `data`, brackets inside strings not counted."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def decode_request(data: bytes | str) -> dict[str, Any]:
    """The request body as a GraphQL request object, or an HTTPException saying why not."""
    if json_depth(data) > MAX_JSON_DEPTH:
        raise HTTPException(400, "http.TOO_DEEP")
    try:
        decoded = json.loads(data)
    except (ValueError, RecursionError):  # JSONDecodeError and undecodable bytes alike
        raise HTTPException(400, "http.NOT_JSON") from None
    if not isinstance(decoded, dict):
        raise HTTPException(400, "http.NOT_OBJECT")
    return _valid_unicode(decoded)


def _valid_unicode(value: Any) -> Any:
    """JSON's `\ud800` decodes to a lone surrogate, which no store, log or encoder accepts: replaced here, once,
    for everything downstream. (Recursion is safe: the depth was checked before decoding.)"""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean(k): _valid_unicode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_valid_unicode(v) for v in value]
    return value


def error_response(status: int, reason: str, language: str = messages.DEFAULT_LANGUAGE) -> JSONResponse:
    """`reason`: an `http.*` key of rules/messages.py, or a framework's own (English) text, kept as it is."""
    code = _CODES.get(status, BAD_USER_INPUT if status < 500 else INTERNAL)
    key = reason if reason in messages.MESSAGES else f"http.{status}"
    message = messages.render(key, language, {"depth": MAX_JSON_DEPTH}) if key in messages.MESSAGES else reason
    return JSONResponse({"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
                        status_code=status)


def internal_error_response(error: BaseException, language: str = messages.DEFAULT_LANGUAGE) -> JSONResponse:
    logger.error("unexpected error serving an HTTP request", exc_info=error)
    return error_response(500, "graphql.INTERNAL", language)
