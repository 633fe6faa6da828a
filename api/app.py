"""The ASGI app: `api.app:app`. uvicorn serves it locally; mangum wraps it for Lambda (`api.handler`)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from api.context import Context, build_context
from api.cors import CORSMiddleware
from api.schema import schema
from infra.runtime import store, wechat
from infra.settings import Settings, settings
from infra.store import utcnow


class SiyuGraphQL(GraphQL):
    async def get_context(self, request: Request, response: Any) -> Context:
        return build_context(store(), settings(), utcnow(), request.headers.get("authorization"), wechat())


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
    # GraphiQL only off prod: in prod GET /graphql answers 404 and introspection is refused (api/hardening.py).
    ide = None if config.is_prod else "graphiql"
    graphql = OfflineGraphiQL(schema, graphql_ide=ide, allow_queries_via_get=False, page=graphiql_page) \
        if graphiql_page and ide else SiyuGraphQL(schema, graphql_ide=ide, allow_queries_via_get=False)
    return Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health),
        *(routes or []),
    ], middleware=[Middleware(CORSMiddleware, origins=config.cors_origins)])


app = build_app(settings())
