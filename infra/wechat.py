"""Exchanging a mini-program login code (`wx.login()`) for the member's WeChat identity.

`WechatClient` is the interface; `WechatApiClient` calls WeChat's `jscode2session`, `LocalWechatClient` answers
the same way offline (`make dev`, the tests). Both read WeChat's answer through `_identity`, which keeps the
openid and unionid and drops the session key on the spot: Siyu never needs it (it decrypts data the mini-program
could send, which Siyu does not ask for), so it is never returned, stored or logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from infra.settings import Settings, WechatApp
from rules.errors import BrandNotConfigured, Busy, InvalidLoginCode

# jscode2session error codes (WeChat's documentation): the code is bad, used, or the user is blocked as high-risk.
_REFUSED_CODES = {40029, 40163, 40226}
_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,128}$")


@dataclass(frozen=True)
class WechatIdentity:
    """Who logged in, as WeChat knows them: `openid` per mini-program, `unionid` across a brand's apps (if bound).
    Raw identifiers: hash them before storing (rules/members.py `lookup_value`) and never log them."""

    openid: str
    unionid: str | None = None

    def __repr__(self) -> str:  # a stray log of this object must not print the ids
        return "WechatIdentity(<redacted>)"


class WechatClient(Protocol):
    def exchange(self, brand_id: str, code: str) -> WechatIdentity:
        """The identity behind a login code for this brand's mini-program.

        Raises `InvalidLoginCode` when WeChat refuses the code, `BrandNotConfigured` when the brand has no
        mini-program here, and `Busy` when WeChat cannot be reached or is busy (the member may try again)."""


def _identity(answer: Mapping[str, Any]) -> WechatIdentity:
    """WeChat's answer, minus the session key."""
    errcode = answer.get("errcode") or 0
    if errcode in _REFUSED_CODES:
        raise InvalidLoginCode()
    if errcode:
        raise Busy("WeChat could not check the login code just now; try again")
    openid, unionid = answer.get("openid"), answer.get("unionid")
    if not isinstance(openid, str) or not openid:
        raise Busy("WeChat answered without an openid; try again")
    return WechatIdentity(openid=openid, unionid=unionid if isinstance(unionid, str) and unionid else None)


def _checked(code: str) -> str:
    # WeChat's codes are short and URL-safe; refusing anything else here spares WeChat (and its quota) the call.
    if not _CODE.match(code or ""):
        raise InvalidLoginCode()
    return code


class WechatApiClient:
    """The real exchange: GET /sns/jscode2session with the brand's appid and secret (settings `WECHAT_APPS`)."""

    def __init__(self, apps: Mapping[str, WechatApp], *, base_url: str, timeout: float) -> None:
        self._apps = apps
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    def exchange(self, brand_id: str, code: str) -> WechatIdentity:
        app = self._apps.get(brand_id)
        if app is None:
            raise BrandNotConfigured(brand_id)
        query = urllib.parse.urlencode({"appid": app.app_id, "secret": app.secret, "js_code": _checked(code),
                                        "grant_type": "authorization_code"})
        # The URL carries the app secret: it is never logged, and no exception below keeps it.
        try:
            with urllib.request.urlopen(f"{self._base_url}/sns/jscode2session?{query}", timeout=self._timeout) as r:
                answer = json.loads(r.read(64 * 1024))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            raise Busy("WeChat could not be reached to check the login code; try again") from None
        if not isinstance(answer, dict):
            raise Busy("WeChat gave an unexpected answer; try again")
        return _identity(answer)


class LocalWechatClient:
    """WeChat, offline: the same code always gives the same person.

    The openid depends on the brand and the code (openids are per mini-program); the unionid on the code alone (one
    person across a brand group's apps). A code starting with `invalid` is refused as WeChat refuses a used one.
    """

    def __init__(self, salt: str = "siyu-local-wechat") -> None:
        self._salt = salt

    def answer(self, brand_id: str, code: str) -> dict[str, Any]:
        """What jscode2session would answer for this code (tests use it to know the ids to look for)."""
        if _checked(code).startswith("invalid"):
            return {"errcode": 40029, "errmsg": "invalid code"}
        return {"openid": "o" + self._derive(f"openid:{brand_id}:{code}")[:27],
                "unionid": "u" + self._derive(f"unionid:{code}")[:27],
                "session_key": self._derive(f"session:{brand_id}:{code}")[:24]}

    def exchange(self, brand_id: str, code: str) -> WechatIdentity:
        return _identity(self.answer(brand_id, code))

    def _derive(self, text: str) -> str:
        return hmac.new(self._salt.encode(), text.encode(), hashlib.sha256).hexdigest()


def wechat_client(config: Settings) -> WechatClient:
    if config.wechat_client == "local":
        return LocalWechatClient()
    return WechatApiClient(config.wechat_apps, base_url=config.wechat_api_url, timeout=config.wechat_timeout_seconds)
