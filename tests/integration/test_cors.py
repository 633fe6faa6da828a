"""Browsers on other origins may call the API only from the origins the settings allow (api/cors.py)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.app import build_app
from infra.settings import Settings, _cors_origins

PREFLIGHT = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}


class Client:
    """The ASGI app called in-process over httpx, on a loop of its own (never installed: mangum, which other tests
    call, needs the main thread's)."""

    def __init__(self, app) -> None:
        self._app = app

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        async def send() -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=self._app),
                                         base_url="http://siyu.test") as http:
                return await http.request(method, path, **kwargs)

        loop = asyncio.new_event_loop()
        try:
            return loop.run_until_complete(send())
        finally:
            loop.close()

    def options(self, path: str, **kwargs) -> httpx.Response:
        return self.request("OPTIONS", path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", path, **kwargs)


def client(origins: tuple[str, ...]) -> Client:
    return Client(build_app(Settings(stage="local", table_name="t", region="us-east-1", dynamodb_endpoint=None,
                                     event_bus_name="local", jwt_secret="x", cors_origins=origins)))


def test_a_preflight_from_the_vite_dev_server_is_answered_204_with_the_allow_headers():
    answer = client(_cors_origins(None, stage="local")).options(
        "/graphql", headers={"Origin": "http://localhost:5173", **PREFLIGHT})
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "http://localhost:5173"
    assert "POST" in answer.headers["access-control-allow-methods"]
    assert {"authorization", "content-type"} <= {h.strip() for h in answer.headers["access-control-allow-headers"]
                                                 .split(",")}


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost.evil.example:5173",
                                    "http://127.0.0.1.nip.io", "null"])
def test_an_origin_not_allowed_gets_no_cors_header_at_all(origin):
    app = client(_cors_origins(None, stage="local"))
    preflight = app.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert preflight.status_code == 403
    assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]
    post = app.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": origin})
    assert post.status_code == 200 and "access-control-allow-origin" not in post.headers


def test_an_allowed_origin_sees_the_answer_of_its_request():
    answer = client(("https://m.brand.example",)).post("/graphql", json={"query": "{ __typename }"},
                                                       headers={"Origin": "https://m.brand.example"})
    assert answer.json() == {"data": {"__typename": "Query"}}
    assert answer.headers["access-control-allow-origin"] == "https://m.brand.example"
    assert "Origin" in answer.headers["vary"]


def test_deployed_stages_allow_only_the_origins_they_are_given():
    assert _cors_origins(None, stage="prod") == ()
    assert _cors_origins("https://m.brand.example, https://h5.brand.example/", stage="prod") == \
        ("https://m.brand.example", "https://h5.brand.example")
    answer = client(()).options("/graphql", headers={"Origin": "http://localhost:5173", **PREFLIGHT})
    assert answer.status_code == 403 and "access-control-allow-origin" not in answer.headers


def test_a_request_without_an_origin_is_not_a_cors_request_and_is_untouched():
    answer = client(_cors_origins(None, stage="local")).post("/graphql", json={"query": "{ __typename }"})
    assert answer.status_code == 200 and "access-control-allow-origin" not in answer.headers
