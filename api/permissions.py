"""Field permissions: a member token reaches only its member, a staff token only its brand."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission
from strawberry.types import Info

from api.request import FORBIDDEN, UNAUTHENTICATED, Context, graphql_error


class _HasRole(BasePermission):
    role = ""
    message = "this operation is not allowed for this token"
    error_extensions = {"code": FORBIDDEN}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context: Context = info.context
        if context.principal is None:
            # Raised here rather than returned, so "who are you?" and "not for you" get different codes.
            key = "graphql.INVALID_TOKEN" if context.auth_problem else "graphql.UNAUTHENTICATED"
            raise graphql_error(key, UNAUTHENTICATED)
        return context.principal.role == self.role


class IsMember(_HasRole):
    role = "member"
    message = "this operation is for member tokens"


class IsStaff(_HasRole):
    role = "staff"
    message = "this operation is for staff tokens"
