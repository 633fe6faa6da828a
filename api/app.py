"""The ASGI app: `api.app:app`. uvicorn serves it locally; mangum wraps it for Lambda (`api.handler`)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from strawberry.asgi import GraphQL

from api.context import Context, build_context
from api.schema import schema
from infra.runtime import store, wechat
from infra.settings import Settings, settings
from infra.store import utcnow


class SiyuGraphQL(GraphQL):
    async def get_context(self, request: Request, response: Any) -> Context:
        return build_context(store(), settings(), utcnow(), request.headers.get("authorization"), wechat())


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def build_app(config: Settings) -> Starlette:
    # GraphiQL only off prod: in prod GET /graphql answers 404 and introspection is refused (api/hardening.py).
    graphql = SiyuGraphQL(schema, graphql_ide=None if config.is_prod else "graphiql", allow_queries_via_get=False)
    return Starlette(routes=[
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/health", health),
    ])


app = build_app(settings())
