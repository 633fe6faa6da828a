"""The phone-number exchange with WeChat (infra/wechat.py, `phone_number`): an access token of the brand's
mini-program, kept while it lasts, then getuserphonenumber with the button's code. Against a stand-in on the
loopback."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from infra.settings import WechatApp
from infra.wechat import LocalWechatClient, WechatApiClient
from rules.errors import BrandNotConfigured, Busy, InvalidInput

APPS = {"baiguoyuan": WechatApp("wx-bgy-app", "bgy-app-secret-value")}


class FakeWechat(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.server.requests.append(("GET", self.path, None))
        self._answer(self.server.token_reply)

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.requests.append(("POST", self.path, body))
        self._answer(self.server.phone_reply)

    def _answer(self, reply):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps(reply).encode())

    def log_message(self, *args):
        pass


@pytest.fixture
def wechat():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    server.requests = []
    server.token_reply = {"access_token": "ACCESS-1", "expires_in": 7200}
    server.phone_reply = {"errcode": 0, "errmsg": "ok", "phone_info": {
        "phoneNumber": "+86 13812345678", "purePhoneNumber": "13812345678", "countryCode": "86"}}
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client(server) -> WechatApiClient:
    return WechatApiClient(APPS, base_url=f"http://127.0.0.1:{server.server_port}", timeout=2.0)


def test_the_button_code_gives_the_verified_number_with_one_access_token_for_several_calls(wechat):
    api = client(wechat)
    assert api.phone_number("baiguoyuan", "phone-code-1") == "13812345678"
    assert api.phone_number("baiguoyuan", "phone-code-2") == "13812345678"
    token_calls = [r for r in wechat.requests if r[0] == "GET"]
    assert len(token_calls) == 1
    query = parse_qs(urlparse(token_calls[0][1]).query)
    assert query == {"grant_type": ["client_credential"], "appid": ["wx-bgy-app"], "secret": ["bgy-app-secret-value"]}
    posts = [r for r in wechat.requests if r[0] == "POST"]
    assert [urlparse(p).path for _, p, _ in posts] == ["/wxa/business/getuserphonenumber"] * 2
    assert parse_qs(urlparse(posts[0][1]).query) == {"access_token": ["ACCESS-1"]}
    assert [b for _, _, b in posts] == [{"code": "phone-code-1"}, {"code": "phone-code-2"}]


def test_a_code_wechat_refuses_is_invalid_input_on_the_code(wechat):
    wechat.phone_reply = {"errcode": 40029, "errmsg": "invalid code"}
    with pytest.raises(InvalidInput) as refused:
        client(wechat).phone_number("baiguoyuan", "used-code")
    assert refused.value.field == "code"


def test_wechat_busy_or_without_a_token_is_busy(wechat):
    wechat.phone_reply = {"errcode": -1, "errmsg": "system busy"}
    with pytest.raises(Busy):
        client(wechat).phone_number("baiguoyuan", "phone-code")
    wechat.token_reply = {"errcode": 40013, "errmsg": "invalid appid"}
    with pytest.raises(Busy):
        client(wechat).phone_number("baiguoyuan", "phone-code")


def test_a_brand_without_a_mini_program_or_a_malformed_code_never_calls_wechat(wechat):
    with pytest.raises(BrandNotConfigured):
        client(wechat).phone_number("unknown-brand", "phone-code")
    with pytest.raises(InvalidInput):
        client(wechat).phone_number("baiguoyuan", "not a code!")
    assert wechat.requests == []


def test_unreachable_wechat_is_busy():
    with pytest.raises(Busy):
        WechatApiClient(APPS, base_url="http://127.0.0.1:9", timeout=0.5).phone_number("baiguoyuan", "phone-code")


def test_locally_the_same_code_gives_the_same_made_up_number_and_invalid_codes_are_refused():
    local = LocalWechatClient()
    number = local.phone_number("baiguoyuan", "code-a")
    assert number == local.phone_number("baiguoyuan", "code-a") != local.phone_number("baiguoyuan", "code-b")
    assert number.startswith("199") and len(number) == 11
    with pytest.raises(InvalidInput):
        local.phone_number("baiguoyuan", "invalid-code")
