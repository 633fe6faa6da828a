"""The per-request context: who is calling, the store, and the request's "now"."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from graphql import GraphQLError
from strawberry.types import Info

from api.auth import AuthError, Principal, bearer, verify_token
from infra.settings import Settings
from rules.members import MemberState
from rules.store import Store

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"


def graphql_error(message: str, code: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


@dataclass
class Context:
    store: Store
    settings: Settings
    now: datetime
    principal: Principal | None = None
    auth_problem: str | None = None
    # Members loaded during this request, so nested fields never read the same member twice.
    members: dict[tuple[str, str], MemberState | None] = field(default_factory=dict)
    # Names what this request creates (a claimed coupon's id), so two requests never collide.
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def member_state(self, brand_id: str, member_id: str) -> MemberState | None:
        key = (brand_id, member_id)
        if key not in self.members:
            self.members[key] = self.store.load_member(brand_id, member_id, as_of=self.now)
        return self.members[key]


def build_context(store: Store, settings: Settings, now: datetime, authorization: str | None) -> Context:
    context = Context(store=store, settings=settings, now=now)
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
