"""Browser tests: the real local stack (`python -m infra.local`, one per session) and the OS's Chromium, driven by
Playwright. Nothing leaves the machine: every request to a host other than localhost is aborted, so a page that
needs the internet (a CDN) fails here.

Chromium comes from the OS packages (`make test` installs it where it may); it is never downloaded by Playwright.
A missing Chromium or an unbuilt front end fails the session with the command to run, never a skip.

The stack and the browser live for this package only: Playwright's sync API keeps an event loop running in the main
thread while it is open, which the other tests (mangum) cannot share, so it is closed before they run.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "build" / "screenshots"
CHROMIUM = os.environ.get("SIYU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, port: int, output: str) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.output = output

    def exported(self, name: str) -> str:
        return re.search(rf"^export {name}=(\S+)$", self.output, re.M).group(1)


@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    web = ROOT / "build" / "web"
    if not all((web / front / "index.html").exists() for front in ("member", "console", "graphiql")):
        pytest.fail("the front ends are not built: run `make web` (make test does)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in ("TABLE_NAME",)}
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--port", str(port), "--dynamodb-port", "0",
         "--data-dir", str(tmp_path_factory.mktemp("siyu-data")), "--web-dir", str(web)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "siyu: ready" in line:
            break
    if not lines or "siyu: ready" not in lines[-1]:
        process.kill()
        pytest.fail("the local stack did not start:\n" + "".join(lines))
    # Keep reading what the stack prints, so a full pipe never blocks it.
    import threading

    threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
    try:
        yield Stack(port, "".join(lines))
    finally:
        process.terminate()
        process.wait(15)


@pytest.fixture(scope="package")
def browser():
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `sudo apt-get update && sudo apt-get install -y "
                    "chromium` (make test does it when it runs as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _offline(route) -> None:
    if urlparse(route.request.url).hostname in LOCAL_HOSTS:
        route.continue_()
    else:
        route.abort("internetdisconnected")


@pytest.fixture
def page(browser):
    """A phone-sized page, in a fresh context (no token, no storage), with the internet blocked."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                  has_touch=True, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.route("**/*", _offline)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> None:
    """A full-page screenshot of the page at rest: transitions under way are finished first (a tag or a dialog
    caught half faded in is not what anyone sees)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled")


def signed_in_as(page, stack: Stack, token: str, path: str) -> None:
    """Open the member centre already signed in (as the mini-program's web-view would after its login)."""
    page.add_init_script(f"localStorage.setItem('siyu.member.token', {token!r});"
                         "localStorage.setItem('siyu.member.brand', 'baiguoyuan');")
    page.goto(f"{stack.base}/m/#{path}")
