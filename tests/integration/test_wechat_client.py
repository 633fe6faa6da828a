"""The code exchange with WeChat (infra/wechat.py), against a stand-in jscode2session served on the loopback."""

import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from infra.settings import WechatApp, reload
from infra.wechat import LocalWechatClient, WechatApiClient, WechatIdentity
from rules.errors import BrandNotConfigured, Busy, InvalidLoginCode
from tests.helpers import STAGE_JWT_SECRET, STAGE_PHONE_KEY, STAGE_SECRETS

APPS = {"baiguoyuan": WechatApp("wx-bgy-app", "bgy-app-secret-value")}


class FakeWechat(BaseHTTPRequestHandler):
    """Answers as jscode2session does; what it answers is set per test in `server.reply`."""

    def do_GET(self):  # noqa: N802 - the name http.server calls
        self.server.requests.append(self.path)
        status, body, delay = self.server.reply
        time.sleep(delay)
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(body.encode() if isinstance(body, str) else json.dumps(body).encode())
        except BrokenPipeError:
            pass  # the client timed out first, as the timeout test wants

    def log_message(self, *args):  # keep the test output (and any secret in a URL) quiet
        pass


@pytest.fixture
def wechat():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    server.requests, server.reply = [], (200, {}, 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def client(server, timeout=2.0):
    return WechatApiClient(APPS, base_url=f"http://127.0.0.1:{server.server_port}", timeout=timeout)


def test_a_good_code_gives_the_openid_and_unionid_and_the_session_key_is_dropped(wechat):
    wechat.reply = (200, {"openid": "oBGY123", "unionid": "uGROUP9", "session_key": "c2Vzc2lvbi1rZXk="}, 0)
    identity = client(wechat).exchange("baiguoyuan", "081abcDEF")
    assert identity == WechatIdentity("oBGY123", "uGROUP9")
    assert not hasattr(identity, "session_key") and "oBGY123" not in repr(identity)
    (path,) = wechat.requests
    url = urlparse(path)
    assert url.path == "/sns/jscode2session"
    assert parse_qs(url.query) == {"appid": ["wx-bgy-app"], "secret": ["bgy-app-secret-value"],
                                   "js_code": ["081abcDEF"], "grant_type": ["authorization_code"]}


def test_a_mini_program_without_a_unionid_binding_gives_the_openid_alone(wechat):
    wechat.reply = (200, {"openid": "oBGY123", "session_key": "k"}, 0)
    assert client(wechat).exchange("baiguoyuan", "code1") == WechatIdentity("oBGY123", None)


@pytest.mark.parametrize("errcode", [40029, 40163, 40226])
def test_a_code_wechat_refuses_is_an_invalid_login_code(wechat, errcode):
    wechat.reply = (200, {"errcode": errcode, "errmsg": "invalid code"}, 0)
    with pytest.raises(InvalidLoginCode):
        client(wechat).exchange("baiguoyuan", "used-code")


@pytest.mark.parametrize("reply", [
    (200, {"errcode": -1, "errmsg": "system error"}, 0),
    (200, {"errcode": 45011, "errmsg": "api minute-quota reach limit"}, 0),
    (200, {"session_key": "no openid"}, 0),
    (200, "<html>not json</html>", 0),
    (200, "[1, 2]", 0),
    (502, {"error": "bad gateway"}, 0),
    (200, {"openid": "late"}, 1.0),
], ids=["busy", "quota", "no-openid", "not-json", "not-an-object", "http-502", "timeout"])
def test_when_wechat_cannot_answer_the_member_is_told_to_retry(wechat, reply):
    wechat.reply = reply
    with pytest.raises(Busy) as busy:
        client(wechat, timeout=0.3).exchange("baiguoyuan", "code1")
    # Nothing of the request (its URL holds the app secret) rides along in the message or a chained exception.
    assert "bgy-app-secret-value" not in str(busy.value) and busy.value.__cause__ is None
    assert busy.value.__context__ is None or busy.value.__suppress_context__


def test_wechat_unreachable_is_busy_too():
    unreachable = WechatApiClient(APPS, base_url="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(Busy):
        unreachable.exchange("baiguoyuan", "code1")


def test_a_brand_without_a_mini_program_here_and_a_malformed_code_never_reach_wechat(wechat):
    with pytest.raises(BrandNotConfigured):
        client(wechat).exchange("heytea", "code1")
    for code in ("", "has space", "a/b", "x" * 129, "码"):
        with pytest.raises(InvalidLoginCode):
            client(wechat).exchange("baiguoyuan", code)
    assert wechat.requests == []


def test_the_local_client_is_deterministic_per_brand_and_person():
    local = LocalWechatClient()
    assert local.exchange("b1", "alice") == local.exchange("b1", "alice")
    assert local.exchange("b1", "alice").openid != local.exchange("b2", "alice").openid
    assert local.exchange("b1", "alice").unionid == local.exchange("b2", "alice").unionid
    assert local.exchange("b1", "alice") != local.exchange("b1", "bob")
    with pytest.raises(InvalidLoginCode):
        local.exchange("b1", "invalid-code")


# ---- settings ----------------------------------------------------------------------------------------------------


def test_the_local_client_is_refused_on_every_stage_but_local_and_the_real_one_is_the_default(monkeypatch):
    monkeypatch.setenv("SIYU_STAGE", "prod")
    monkeypatch.setenv("JWT_SECRET", STAGE_JWT_SECRET)
    monkeypatch.setenv("PHONE_HASH_KEY", STAGE_PHONE_KEY)
    try:
        assert reload().wechat_client == "wechat"
        monkeypatch.setenv("SIYU_WECHAT_CLIENT", "local")
        for stage in ("prod", "dev", "staging", "production"):
            monkeypatch.setenv("SIYU_STAGE", stage)
            with pytest.raises(RuntimeError, match="local WeChat client"):
                reload()
        monkeypatch.setenv("SIYU_STAGE", "local")
        assert reload().wechat_client == "local"
    finally:
        monkeypatch.undo()
        reload()


def test_wechat_apps_are_read_per_brand_and_a_bad_value_is_not_echoed(monkeypatch):
    monkeypatch.setenv("WECHAT_APPS", json.dumps({"baiguoyuan": {"appId": "wx1", "secret": "top-secret-1"}}))
    try:
        config = reload()
        assert config.wechat_apps["baiguoyuan"] == WechatApp("wx1", "top-secret-1")
        assert "top-secret-1" not in repr(config)
        monkeypatch.setenv("WECHAT_APPS", '{"baiguoyuan": {"appId": "wx1", "secret": "top-secret-2"')
        with pytest.raises(RuntimeError) as refused:
            reload()
        assert "top-secret-2" not in str(refused.value) and refused.value.__cause__ is None
    finally:
        monkeypatch.undo()
        reload()


# ---- siyu token ----------------------------------------------------------------------------------------------------


def siyu_token(**env: str) -> subprocess.CompletedProcess:
    import os
    import sys

    environment = {k: v for k, v in os.environ.items() if k not in ("JWT_SECRET", "PHONE_HASH_KEY", "SIYU_STAGE")}
    return subprocess.run([sys.executable, "-m", "infra.cli", "token", "staff", "--brand", "baiguoyuan"],
                          env=environment | env, capture_output=True, text=True, timeout=60)


def test_siyu_token_refuses_to_sign_outside_local_without_a_secret():
    refused = siyu_token(SIYU_STAGE="prod")
    assert refused.returncode == 2 and refused.stdout == "" and "set JWT_SECRET" in refused.stderr
    # With the secret but not the phone key, the settings refuse to load: said in one line, no traceback.
    incomplete = siyu_token(SIYU_STAGE="prod", JWT_SECRET=STAGE_JWT_SECRET)
    assert incomplete.returncode == 2 and "PHONE_HASH_KEY" in incomplete.stderr
    assert "Traceback" not in incomplete.stderr and incomplete.stdout == ""


def test_siyu_token_signs_a_staff_token_locally_and_with_the_stage_secret_elsewhere():
    import jwt

    local = siyu_token(SIYU_STAGE="local")
    claims = jwt.decode(local.stdout.strip(), options={"verify_signature": False})
    assert local.returncode == 0 and claims["role"] == "staff" and claims["brand"] == "baiguoyuan"
    prod = siyu_token(SIYU_STAGE="prod", JWT_ISSUER="siyu-prod", **STAGE_SECRETS)
    assert jwt.decode(prod.stdout.strip(), STAGE_JWT_SECRET, algorithms=["HS256"],
                      issuer="siyu-prod")["role"] == "staff"
