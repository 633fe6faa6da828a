"""GraphiQL loads from the project's own bundle with the internet blocked, and its first tab runs as the demo
member."""

from __future__ import annotations

import json

from playwright.sync_api import expect

from tests.browser.conftest import screenshot


def test_graphiql_loads_offline_and_runs_the_default_me_query(page, stack):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{stack.base}/graphql", wait_until="domcontentloaded")
    run = page.locator(".graphiql-execute-button")
    expect(run).to_be_visible()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("me {")
    expect(page.locator(".graphiql-editor-tool")).to_contain_text("Authorization")
    run.click()
    result = page.locator(".result-window")
    expect(result).to_contain_text('"phoneMasked": "138****8000"')
    screenshot(page, "11-graphiql")
    outside = [url for url in requested if not url.startswith(stack.base)]
    assert outside == []
    text = result.inner_text()
    assert '"balance"' in text and "errors" not in json.dumps(text)
