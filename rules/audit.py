"""The audit log of staff actions (DOMAIN.md 9: "data security audits"): who did what, when, with which arguments,
and how it ended. Records are append-only; nothing in Siyu updates or deletes one.

Arguments are kept as the staff member sent them, less what would make the log itself a store of personal data:
phone numbers are masked (138****8000), identifiers from WeChat are cut to a prefix, and names and birthdays are
left out.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Mapping

from rules import phone

OK = "ok"
REFUSED = "refused"  # a typed business failure: nothing was written
ERROR = "error"  # an error (forbidden input, internal failure)

MAX_ARGUMENT_BYTES = 32_000  # far below DynamoDB's 400 KB item limit; a dry-run event can be 256 KB
OMITTED = "[personal data omitted]"


@dataclass(frozen=True)
class AuditRecord:
    audit_id: str
    brand_id: str
    staff_id: str
    mutation: str
    arguments: Mapping[str, Any]
    at: datetime
    outcome: str  # ok, refused, error
    detail: str | None = None  # the result type, the refusal's code or the error's code


def new_record(*, brand_id: str, staff_id: str, mutation: str, arguments: Mapping[str, Any], at: datetime,
               outcome: str, detail: str | None) -> AuditRecord:
    return AuditRecord(audit_id=secrets.token_hex(8), brand_id=brand_id, staff_id=staff_id, mutation=mutation,
                       arguments=_bounded(masked(arguments)), at=at, outcome=outcome, detail=detail)


def masked(value: Any, key: str = "") -> Any:
    """A JSON-ready copy of `value` with personal data masked or left out, by field name and by shape."""
    name = key.lower().replace("_", "")
    if value is None:
        return None
    # Audit records are never changed, so erasure cannot reach them: identifiers are left out, not masked.
    if name in ("phone", "phonenumber", "mobile", "openid", "unionid", "sessionkey", "nickname", "birthday",
                "text", "address"):
        return OMITTED
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: masked(getattr(value, f.name), f.name) for f in dataclasses.fields(value)
                if not _unset(getattr(value, f.name))}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): masked(v, str(k)) for k, v in value.items() if not _unset(v)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [masked(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str):
        return phone.redact(value)
    if isinstance(value, (bool, int, float)):
        return value
    return phone.redact(str(value))


def _unset(value: Any) -> bool:
    return type(value).__name__ == "UnsetType"


def _bounded(arguments: Any) -> Mapping[str, Any]:
    text = json.dumps(arguments, ensure_ascii=False, default=str)
    if len(text.encode()) <= MAX_ARGUMENT_BYTES:
        return arguments
    return {"_cut": f"{len(text.encode())} bytes of arguments", "preview": text[:2000]}
