"""The per-request context: who is calling, the store, and the request's "now"."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from graphql import GraphQLError
from strawberry.types import Info

from api.auth import AuthError, Principal, bearer, verify_token
from api.hardening import BAD_USER_INPUT, FORBIDDEN, INTERNAL, LIMIT_EXCEEDED, NOT_FOUND, UNAUTHENTICATED
from infra.settings import Settings
from rules import limits
from rules.members import MemberState
from rules.store import Store

logger = logging.getLogger("siyu.api")

if TYPE_CHECKING:
    from infra.wechat import WechatClient

__all__ = ["BAD_USER_INPUT", "FORBIDDEN", "INTERNAL", "LIMIT_EXCEEDED", "NOT_FOUND", "UNAUTHENTICATED", "Context",
           "build_context", "graphql_error"]


def graphql_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


@dataclass
class Context:
    store: Store
    settings: Settings
    now: datetime
    principal: Principal | None = None
    auth_problem: str | None = None
    wechat: "WechatClient | None" = None  # exchanges mini-program login codes (infra/wechat.py)
    # Members loaded during this request, so nested fields never read the same member twice.
    members: dict[tuple[str, str], MemberState | None] = field(default_factory=dict)
    # Names what this request creates (a claimed coupon's id), so two requests never collide.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
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
                             limits=self.settings.attempt_limits)
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

    def member_state(self, brand_id: str, member_id: str) -> MemberState | None:
        key = (brand_id, member_id)
        if key not in self.members:
            self.members[key] = self.store.load_member(brand_id, member_id, as_of=self.now)
        return self.members[key]


def build_context(store: Store, settings: Settings, now: datetime, authorization: str | None,
                  wechat: "WechatClient | None" = None) -> Context:
    context = Context(store=store, settings=settings, now=now, wechat=wechat)
    try:
        token = bearer(authorization)
        if token is not None:
            context.principal = verify_token(token, secret=settings.jwt_secret, issuer=settings.jwt_issuer)
    except AuthError as error:
        # A bad token is never silently treated as anonymous access to something: every guarded field refuses.
        context.auth_problem = str(error)
    return context


def ctx(info: Info) -> Context:
    return info.context
