"""The ASGI app: `api.app:app`. uvicorn serves it locally; mangum wraps it for Lambda (`api.handler`)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL

from api.request import Context, build_context
from api.cors import CORSMiddleware
from api.http_errors import HTTPException, decode_request, error_response, internal_error_response
from api.schema import schema
from infra.runtime import store, wechat
from infra.settings import Settings, settings
from rules import messages
from infra.dynamo_store import utcnow


class SiyuGraphQL(GraphQL):
    async def get_context(self, request: Request, response: Any) -> Context:
        # mangum gives API Gateway's requestContext.http.sourceIp as the client (not a header anyone can forge).
        client = request.client.host if request.client else None
        return build_context(store(), settings(), utcnow(), request.headers.get("authorization"), wechat(), client,
                             accept_language=request.headers.get("accept-language"))

    def decode_json(self, data: str | bytes) -> object:
        return decode_request(data)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        request = Request(scope=scope, receive=receive)
        language = messages.language_of(request.headers.get("accept-language"))
        try:
            response = await self.run(request)
        except HTTPException as refused:  # not a GraphQL request: JSON with a code, as every other answer
            response = error_response(refused.status_code, refused.reason, language)
        except Exception as error:  # a bug or an outage, never the client's input: logged, masked
            response = internal_error_response(error, language)
        await response(scope, receive, send)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


class OfflineGraphiQL(SiyuGraphQL):
    """GraphiQL from a page built from the project's own npm packages (web/graphiql), never from a CDN."""

    def __init__(self, *args: Any, page: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._page = page

    @property
    def graphql_ide_html(self) -> str:
        return self._page


def build_app(config: Settings, *, graphiql_page: str | None = None, routes: list | None = None) -> Starlette:
    """`graphiql_page`: the built offline GraphiQL (the local stack passes it); `routes`: more routes (its static
    pages)."""
    # GraphiQL only on the local stage: elsewhere GET /graphql answers 404 and introspection is refused
    # (api/hardening.py).
    ide = None if config.is_hardened else "graphiql"
    graphql = OfflineGraphiQL(schema, graphql_ide=ide, allow_queries_via_get=False, page=graphiql_page) \
        if graphiql_page and ide else SiyuGraphQL(schema, graphql_ide=ide, allow_queries_via_get=False)
    return Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health),
        *(routes or []),
    ], middleware=[Middleware(CORSMiddleware, origins=config.cors_origins)],
        exception_handlers={StarletteHTTPException: _http_error})


async def _http_error(request: Request, refused: Exception) -> JSONResponse:
    """Unknown paths and methods answer JSON with a code too (Starlette's own answers are plain text)."""
    assert isinstance(refused, StarletteHTTPException)
    return error_response(refused.status_code, str(refused.detail),
                          messages.language_of(request.headers.get("accept-language")))


app = build_app(settings())
