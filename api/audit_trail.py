"""Every staff mutation leaves an audit record, by construction.

`audit_staff_mutations` runs when the schema is built: it puts `AuditStaffMutation` on every mutation field guarded
by `IsStaff`, so a staff mutation added later is audited without a line of its own. The extension sits inside the
permission check (only calls that were let through are staff actions) and around the resolver, so it sees the
arguments as converted and the result: `ok` with the result's type, `refused` with the business failure's code, or
`error` with the GraphQL error's code.

No change without its record: before the resolver runs, a `started` record (who, what, the arguments) is written
with a condition that it is new; if it cannot be written the resolver never runs and the request fails. The
outcome is a second record, written after the resolver, whose id is the first's with the outcome appended
(`<id>.ok`): the two sort together, the outcome first (newest first). If the outcome cannot be written the request
fails loudly; the `started` record still says the call was made. Nothing a client sends can stop a record from
being written (rules/audit.py repairs and bounds the arguments).
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from graphql import GraphQLError
from strawberry.extensions import FieldExtension
from strawberry.types import Info
from strawberry.types.base import has_object_definition
from strawberry.types.unset import UNSET

from api.request import Context
from api.permissions import IsStaff
from rules import audit

logger = logging.getLogger("siyu.audit")


class AuditStaffMutation(FieldExtension):
    def apply(self, field: Any) -> None:
        self.field = field

    def resolve(self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any) -> Any:
        started = _record(self.field, info, kwargs, audit.STARTED, None)
        try:
            result = next_(source, info, **kwargs)
        except Exception as error:
            _record(self.field, info, kwargs, *_failure(error), started=started)
            raise
        _record(self.field, info, kwargs, *_outcome(result), started=started)
        return result

    async def resolve_async(self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info,
                            **kwargs: Any) -> Any:
        started = _record(self.field, info, kwargs, audit.STARTED, None)
        try:
            result = await next_(source, info, **kwargs)
        except Exception as error:
            _record(self.field, info, kwargs, *_failure(error), started=started)
            raise
        _record(self.field, info, kwargs, *_outcome(result), started=started)
        return result


def audit_staff_mutations(mutation_type: type) -> None:
    """Wrap every `IsStaff` mutation of `mutation_type` in the audit extension (once)."""
    for field in mutation_type.__strawberry_definition__.fields:
        staff_only = any(issubclass(p, IsStaff) for p in field.permission_classes)
        if staff_only and not any(isinstance(e, AuditStaffMutation) for e in field.extensions):
            # Extensions wrap in list order, the last outermost: first in the list runs inside the permission check.
            field.extensions.insert(0, AuditStaffMutation())


def is_audited(field: Any) -> bool:
    return any(isinstance(e, AuditStaffMutation) for e in field.extensions)


def _outcome(result: Any) -> tuple[str, str]:
    from api.results import BusinessError

    if isinstance(result, BusinessError):
        return audit.REFUSED, result.code
    return audit.OK, type(result).__name__


def _failure(error: Exception) -> tuple[str, str]:
    code = (error.extensions or {}).get("code") if isinstance(error, GraphQLError) else None
    return audit.ERROR, code or "INTERNAL"


def _as_sent(value: Any, info: Info) -> Any:
    """Input objects as the client wrote them: GraphQL field names, fields left out left out (JSON as is)."""
    names = info.schema.config.name_converter
    if has_object_definition(value):
        return {names.get_graphql_name(f): _as_sent(getattr(value, f.python_name), info)
                for f in value.__strawberry_definition__.fields if getattr(value, f.python_name) is not UNSET}
    if isinstance(value, (list, tuple)):
        return [_as_sent(v, info) for v in value]
    return value


def _record(field: Any, info: Info, kwargs: dict[str, Any], outcome: str, detail: str | None, *,
            started: audit.AuditRecord | None = None) -> audit.AuditRecord:
    context: Context = info.context
    principal = context.principal
    if started is None:
        names = info.schema.config.name_converter
        arguments = {names.get_graphql_name(a): _as_sent(kwargs[a.python_name], info)
                     for a in field.arguments if a.python_name in kwargs and kwargs[a.python_name] is not UNSET}
        record = audit.new_record(brand_id=principal.brand_id, staff_id=principal.subject,
                                  mutation=info.field_name, arguments=arguments, at=context.now, outcome=outcome,
                                  detail=detail)
    else:
        record = audit.outcome_of(started, outcome=outcome, detail=detail)
    try:
        context.store.record_audit(record)
    except Exception:
        logger.error("audit record (%s) for %s by %s could not be written", outcome, info.field_name,
                     principal.actor)
        raise
    return record
