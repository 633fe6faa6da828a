"""The audit log of staff actions (DOMAIN.md 9: "data security audits"): who did what, when, with which arguments,
and how it ended. Records are append-only; nothing in Siyu updates or deletes one.

Arguments are kept as the staff member sent them, less what would make the log itself a store of personal data
(records outlive erasure): identifiers, names, birthdays and free text (reasons, comments, tags: they may name
anyone) are left out; in the rest, phone numbers are masked (138****8000) and identity numbers and identifier-like
tokens replaced (rules/free_text.py). Whatever a client sends, the record can be written: text that is not valid
Unicode (a lone surrogate) is repaired, values nested deeper than `free_text.MAX_DEPTH` are cut, and arguments
that do not serialise are described instead of kept.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, Mapping

from rules import free_text

STARTED = "started"  # written before the mutation runs: no change without it
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
    outcome: str  # started (before the mutation ran), then ok, refused or error
    detail: str | None = None  # the result type, the refusal's code or the error's code


def new_record(*, brand_id: str, staff_id: str, mutation: str, arguments: Mapping[str, Any], at: datetime,
               outcome: str, detail: str | None) -> AuditRecord:
    return AuditRecord(audit_id=secrets.token_hex(8), brand_id=brand_id, staff_id=staff_id, mutation=mutation,
                       arguments=_bounded(masked(arguments)), at=at, outcome=outcome, detail=detail)


# Audit records are never changed, so erasure cannot reach them: identifiers are left out, not masked, and so is
# free text, which may name anyone.
LEFT_OUT = frozenset({"phone", "phonenumber", "mobile", "openid", "unionid", "sessionkey", "nickname", "birthday",
                      "text", "address", "comment", "comments", "tags", "reason", "note", "notes", "remark",
                      "description", "message",
                      # an imported file's rows name members (importMembers, importPreview): its name is kept
                      "file", "content"}) | free_text.PERSONAL_FIELDS


def outcome_of(started: AuditRecord, *, outcome: str, detail: str | None) -> AuditRecord:
    """The record of how a started call ended: the same call, its id extended so the two sort together."""
    return dataclasses.replace(started, audit_id=f"{started.audit_id}.{outcome}", outcome=outcome, detail=detail)


def call_id(record: AuditRecord) -> str:
    """The id shared by a call's `started` record and its outcome."""
    return record.audit_id.split(".", 1)[0]


def masked(value: Any, key: str = "", depth: int = 0) -> Any:
    """A JSON-ready copy of `value` with personal data masked or left out, by field name and by shape."""
    name = key.lower().replace("_", "").replace("-", "")
    if value is None:
        return None
    if name in LEFT_OUT:
        return OMITTED
    if isinstance(value, (bool, int, float)):
        return value
    if depth >= free_text.MAX_DEPTH:
        return "[nested too deep]"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: masked(getattr(value, f.name), f.name, depth + 1) for f in dataclasses.fields(value)
                if not _unset(getattr(value, f.name))}
    if isinstance(value, Enum):
        return masked(value.value, key, depth + 1)
    if isinstance(value, Mapping):
        return {free_text.scrub(str(k)): masked(v, str(k), depth + 1) for k, v in value.items() if not _unset(v)}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [masked(v, "", depth + 1) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return free_text.scrub(str(value))


def _unset(value: Any) -> bool:
    return type(value).__name__ == "UnsetType"


def _bounded(arguments: Any) -> Mapping[str, Any]:
    """The arguments as kept: as they are when they fit, else described. Never raises: a record that cannot be
    written would stop the mutation it records."""
    try:
        data = json.dumps(arguments, ensure_ascii=False, default=str).encode("utf-8", "replace")
    except Exception as problem:  # noqa: BLE001 - whatever it is, the record is still written
        return {"_unserialisable": type(problem).__name__}
    if len(data) <= MAX_ARGUMENT_BYTES and isinstance(arguments, Mapping):
        return json.loads(data)  # the round trip leaves only what any store can write
    preview = data[:2000].decode("utf-8", "ignore")
    return {"_cut": f"{len(data)} bytes of arguments", "preview": preview}
