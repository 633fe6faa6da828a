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
from rules.errors import BrandNotConfigured, Busy, InvalidInput, InvalidLoginCode

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

    def phone_number(self, brand_id: str, code: str) -> str:
        """The phone number behind a `getPhoneNumber` button's code (WeChat verified it belongs to the user).

        Raises `InvalidInput("code")` when WeChat refuses the code, `BrandNotConfigured` and `Busy` as above.
        The number is personal data: hash and mask it (rules/phone.py), never log it."""


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


def _phone(answer: Mapping[str, Any]) -> str:
    """getuserphonenumber's answer: `phone_info.purePhoneNumber`, the number without the country code."""
    errcode = answer.get("errcode") or 0
    if errcode in _REFUSED_CODES:
        raise InvalidInput("code", "invalid.phone_code")
    if errcode:
        raise Busy("WeChat could not check the phone number code just now; try again")
    info = answer.get("phone_info")
    number = info.get("purePhoneNumber") if isinstance(info, dict) else None
    if not isinstance(number, str) or not number:
        raise Busy("WeChat answered without a phone number; try again")
    return number


def _checked(code: str) -> str:
    # WeChat's codes are short and URL-safe; refusing anything else here spares WeChat (and its quota) the call.
    if not _CODE.match(code or ""):
        raise InvalidLoginCode()
    return code


def _checked_phone_code(code: str) -> str:
    if not _CODE.match(code or ""):
        raise InvalidInput("code", "invalid.not_phone_code")
    return code


class WechatApiClient:
    """The real exchange: GET /sns/jscode2session with the brand's appid and secret (settings `WECHAT_APPS`)."""

    def __init__(self, apps: Mapping[str, WechatApp], *, base_url: str, timeout: float) -> None:
        self._apps = apps
        self._tokens: dict[str, tuple[str, float]] = {}
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

    def phone_number(self, brand_id: str, code: str) -> str:
        """POST /wxa/business/getuserphonenumber with an access token of the brand's mini-program."""
        app = self._apps.get(brand_id)
        if app is None:
            raise BrandNotConfigured(brand_id)
        code = _checked_phone_code(code)
        token = self._access_token(app)
        body = json.dumps({"code": code}).encode()
        request = urllib.request.Request(
            f"{self._base_url}/wxa/business/getuserphonenumber?access_token={urllib.parse.quote(token)}",
            data=body, headers={"content-type": "application/json"}, method="POST")
        return _phone(self._json(request, "the phone number code"))

    def _access_token(self, app: WechatApp) -> str:
        # Tokens last two hours and WeChat limits how many are issued a day: keep one per app until near its end.
        import time

        cached = self._tokens.get(app.app_id)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        query = urllib.parse.urlencode({"grant_type": "client_credential", "appid": app.app_id, "secret": app.secret})
        answer = self._json(f"{self._base_url}/cgi-bin/token?{query}", "the mini-program's access")
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise Busy("WeChat did not issue an access token just now; try again")
        expires_in = answer.get("expires_in") if isinstance(answer.get("expires_in"), int) else 7200
        self._tokens[app.app_id] = (token, time.monotonic() + max(60, expires_in - 300))
        return token

    def _json(self, request, what: str) -> dict:
        # The URL may carry the app secret or a token: never logged, and no exception below keeps it.
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as r:
                answer = json.loads(r.read(64 * 1024))
        except (urllib.error.URLError, TimeoutError, OSError, ValueError):
            raise Busy(f"WeChat could not be reached to check {what}; try again") from None
        if not isinstance(answer, dict):
            raise Busy("WeChat gave an unexpected answer; try again")
        return answer


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

    def phone_answer(self, brand_id: str, code: str) -> dict[str, Any]:
        """What getuserphonenumber would answer: a made-up mobile number (199 + 8 digits), the same for the same
        code, so a test knows the number to look for. A code starting with `invalid` is refused."""
        if _checked_phone_code(code).startswith("invalid"):
            return {"errcode": 40029, "errmsg": "invalid code"}
        digits = str(int(self._derive(f"phone:{brand_id}:{code}"), 16))[-8:]
        return {"errcode": 0, "phone_info": {"phoneNumber": "199" + digits, "purePhoneNumber": "199" + digits,
                                             "countryCode": "86"}}

    def phone_number(self, brand_id: str, code: str) -> str:
        return _phone(self.phone_answer(brand_id, code))

    def _derive(self, text: str) -> str:
        return hmac.new(self._salt.encode(), text.encode(), hashlib.sha256).hexdigest()


def wechat_client(config: Settings) -> WechatClient:
    if config.wechat_client == "local":
        return LocalWechatClient()
    return WechatApiClient(config.wechat_apps, base_url=config.wechat_api_url, timeout=config.wechat_timeout_seconds)
