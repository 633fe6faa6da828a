"""CORS for the GraphQL endpoint, so that H5 pages on another origin (the member centre on the Vite dev server,
a brand's own domain) can call it from a browser.

Origins come from the settings (`SIYU_CORS_ORIGINS`, comma-separated; an entry may end in `:*` for any port).
Locally the default is any http(s) origin on localhost or 127.0.0.1, any port; elsewhere none unless set
(serverless.yml sets the brand's domains). An allowed preflight answers 204 with the allow headers; an origin not allowed gets no CORS header
at all (a preflight from it answers 403), so the browser keeps the answer from that page.
"""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Iterable

ALLOW_METHODS = "GET, POST, OPTIONS"
# What the member centre and a mini-program send: the bearer token, JSON, the language of the messages.
ALLOW_HEADERS = "authorization, content-type, accept, accept-language"
MAX_AGE = "600"

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]


def _matcher(origins: Iterable[str]) -> re.Pattern[str] | None:
    parts = []
    for origin in origins:
        if origin == "*":
            parts.append(r"[^\s]+")
        elif origin.endswith(":*"):
            parts.append(re.escape(origin[:-2]) + r"(?::\d{1,5})?")
        else:
            parts.append(re.escape(origin))
    return re.compile("^(?:" + "|".join(parts) + ")$") if parts else None


class CORSMiddleware:
    def __init__(self, app: ASGIApp, origins: Iterable[str]) -> None:
        self._app = app
        self._allowed = _matcher(origins)

    def allows(self, origin: str) -> bool:
        return bool(self._allowed and self._allowed.match(origin))

    async def __call__(self, scope: Scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self._app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        origin = headers.get("origin")
        if origin is None:
            return await self._app(scope, receive, send)
        allowed = self.allows(origin)
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            status, extra = (204, self._preflight(origin)) if allowed else (403, [])
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"vary", b"Origin"), (b"content-length", b"0"), *extra]})
            return await send({"type": "http.response.body", "body": b""})
        if not allowed:
            return await self._app(scope, receive, send)

        async def with_cors(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [*message.get("headers", []),
                                      (b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]
            await send(message)

        return await self._app(scope, receive, with_cors)

    @staticmethod
    def _preflight(origin: str) -> list[tuple[bytes, bytes]]:
        return [(b"access-control-allow-origin", origin.encode("latin-1")),
                (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                (b"access-control-max-age", MAX_AGE.encode())]
