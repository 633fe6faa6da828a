"""Pages of a Query with opaque cursors, newest first where the sort keys start with a time."""

from __future__ import annotations

import base64
from typing import Any

from rules.errors import InvalidInput
from rules.persistence import Page


def page(results: Any, first: int, position: Any, convert: Any) -> Page:
    """A page from a Query that asked for one more item than `first`: the extra one only says a next page exists."""
    items = list(results)
    shown = items[:first]
    cursors = [encode_cursor(position(item)) for item in shown]
    return Page(items=[convert(item) for item in shown], cursors=cursors,
                end_cursor=cursors[-1] if cursors else None, has_next_page=len(items) > first)

def newest_first(model: Any, pk: str, first: int, after: str | None, convert: Any) -> Page:
    """A page of a partition whose sort keys start with a time, newest first (problems, audit records)."""
    start = {"pk": {"S": pk}, "sk": {"S": decode_cursor(after)}} if after else None
    if start and not start["sk"]["S"][:1].isdigit():
        raise InvalidInput("after", "invalid.cursor")
    results = model.query(pk, scan_index_forward=False, limit=first + 1, page_size=first + 1,
                          last_evaluated_key=start)
    return page(results, first, lambda i: i.sk, convert)

def encode_cursor(entry_id: str) -> str:
    return base64.urlsafe_b64encode(entry_id.encode()).decode()

def decode_cursor(cursor: str, prefix: str = "") -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode()).decode()
    except Exception as exc:  # noqa: BLE001 - any garbage cursor is the caller's input error
        raise InvalidInput("after", "invalid.cursor") from exc
    if not decoded.startswith(prefix) or len(decoded) > 512:
        raise InvalidInput("after", "invalid.cursor")
    return decoded
