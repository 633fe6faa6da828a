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
from infra.runtime import store
from infra.settings import settings
from infra.store import utcnow


class SiyuGraphQL(GraphQL):
    async def get_context(self, request: Request, response: Any) -> Context:
        return build_context(store(), settings(), utcnow(), request.headers.get("authorization"))


def _graphql_app() -> SiyuGraphQL:
    local = not settings().is_prod
    return SiyuGraphQL(schema, graphql_ide="graphiql" if local else None, allow_queries_via_get=False)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[
    Route("/graphql", _graphql_app(), methods=["GET", "POST"]),
    Route("/health", health),
])
