"""The per-request context: who is calling, the store, and the request's "now"."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from graphql import GraphQLError
from strawberry.types import Info

from api.auth import AuthError, Principal, bearer, verify_token
from api.hardening import BAD_USER_INPUT, FORBIDDEN, INTERNAL, LIMIT_EXCEEDED, NOT_FOUND, UNAUTHENTICATED
from infra.settings import Settings
from rules import limits, messages
from rules.errors import RateLimited
from rules.members import MemberState
from rules.persistence import Store

logger = logging.getLogger("siyu.api")

if TYPE_CHECKING:
    from infra.wechat import WechatClient

__all__ = ["BAD_USER_INPUT", "FORBIDDEN", "INTERNAL", "LIMIT_EXCEEDED", "NOT_FOUND", "UNAUTHENTICATED", "Context",
           "build_context", "graphql_error"]


MAX_LOGINS_PER_REQUEST = 1


def graphql_error(what: "str | Renderable", code: str, **params: Any) -> GraphQLError:
    """A GraphQL error with its `code`; `what` is a key of rules/messages.py (with `params`) or a domain error.
    Its text is English here; api/hardening.py renders it in the request's language before it is sent."""
    sentence = what if hasattr(what, "render") else messages.Sentence(what, params)
    error = GraphQLError(sentence.render(messages.EN), extensions={"code": code})
    error.siyu_message = sentence  # type: ignore[attr-defined]
    return error


class Renderable(Protocol):
    def render(self, language: str) -> str: ...


@dataclass
class Context:
    store: Store
    settings: Settings
    now: datetime
    principal: Principal | None = None
    auth_problem: str | None = None
    wechat: "WechatClient | None" = None  # exchanges mini-program login codes (infra/wechat.py)
    # Members loaded during this request, so nested fields never read the same member twice.
    members: dict[tuple[str, ...], MemberState | None] = field(default_factory=dict)
    # Names what this request creates (a claimed coupon's id), so two requests never collide.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The address the request came from (API Gateway's sourceIp), for limits on callers without a token.
    client: str | None = None
    logins: int = 0  # loginWithWechat calls in this request (aliases): one is allowed
    # What messages are shown in (rules/messages.py): from the request's Accept-Language, Chinese by default.
    language: str = messages.DEFAULT_LANGUAGE

    def login_attempt(self, brand_id: str) -> None:
        """loginWithWechat has no member to count against: one per request (15 aliased logins in one request
        were 15 WeChat calls), and attempts per brand and client address (a keyed hash of it: an address is
        personal data) within the window of `limits.LOGIN_WITH_WECHAT`. Raises `RateLimited`."""
        self.logins += 1
        if self.logins > MAX_LOGINS_PER_REQUEST:
            raise RateLimited(limits.LOGIN_WITH_WECHAT, retry_after_seconds=1)
        address = hmac.new(self.settings.phone_hash_key.encode(), (self.client or "unknown").encode(),
                           hashlib.sha256).hexdigest()[:32]
        limits.count_attempt(self.store, brand_id, f"client-{address}", limits.LOGIN_WITH_WECHAT, now=self.now,
                             limits=self.settings.attempt_limits)
    # Attempts this request counted (rules/limits.py): counted once however often a conflict runs it again.
    counted: list[str] = field(default_factory=list)

    def attempt(self, action: str) -> None:
        """Count one attempt of `action` by the calling member (rules/limits.py); raises `RateLimited` past the
        limit. Call it first thing inside a member mutation's `_typed` run, so the refusal is a typed result."""
        p = self.principal
        assert p is not None and p.role == "member", "attempts are counted for member callers"
        if action in self.counted:
            return  # the same request run again after a conflict: one attempt
        limits.count_attempt(self.store, p.brand_id, p.subject, action, now=self.now,
                             limits=self.settings.attempt_limits, live_member=True)
        self.counted.append(action)

    def release_attempts(self) -> None:
        """Give back what this request counted: it was refused as `Busy` by the database, not by the limit."""
        p = self.principal
        for action in self.counted:
            try:
                limits.release_attempt(self.store, p.brand_id, p.subject, action, now=self.now,
                                       limits=self.settings.attempt_limits)
            except Exception:  # noqa: BLE001 - the answer is Busy either way; one extra count is the lesser harm
                logger.warning("could not give back an attempt of %s", action)
        self.counted.clear()

    def member_state(self, brand_id: str, member_id: str, *, page: bool = False) -> MemberState | None:
        """The member as this request sees it, read once. `page`: for a query that only shows it (never in a
        mutation, whose answer must show what it just wrote), the cheaper page read (Store.load_member)."""
        full, shown = (brand_id, member_id), (brand_id, member_id, "page")
        if full in self.members:
            return self.members[full]
        key = shown if page else full
        if key not in self.members:
            self.members[key] = self.store.load_member(brand_id, member_id, as_of=self.now, page=page)
        return self.members[key]


def build_context(store: Store, settings: Settings, now: datetime, authorization: str | None,
                  wechat: "WechatClient | None" = None, client: str | None = None,
                  accept_language: str | None = None) -> Context:
    context = Context(store=store, settings=settings, now=now, wechat=wechat, client=client,
                      language=messages.language_of(accept_language))
    try:
        token = bearer(authorization)
        if token is not None:
            context.principal = verify_token(token, secret=settings.jwt_secret, issuer=settings.jwt_issuer,
                                             lifetimes={r: settings.token_lifetime(r) for r in ("member", "staff")},
                                             now=now)
    except AuthError as error:
        # A bad token is never silently treated as anonymous access to something: every guarded field refuses.
        context.auth_problem = str(error)
    return context


def language(info: Info) -> str:
    """The language this request is answered in (chosen from `Accept-Language` in `build_context`)."""
    return getattr(info.context, "language", messages.DEFAULT_LANGUAGE)


def ctx(info: Info) -> Context:
    return info.context
