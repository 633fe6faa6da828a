"""Free text that people type (a staff adjustment's reason, a tag, a simulated event's comment) and raw events kept
for staff: what in them looks like personal data is masked before it is stored or logged.

Free text cannot be checked for names; it can be checked for what identifies someone by its shape:
- mobile numbers: masked as everywhere else (138****8000);
- resident identity card numbers (17 digits and a check character) and any other run of 12 or more digits (bank
  cards, passports, order-less account numbers): replaced by `[number]`;
- identifier-like tokens: 16 or more letters, digits, `_` or `-` with both letters and digits in them, as
  WeChat's openids and unionids (28 characters, e.g. oGZUI0egBJY1zhBYw2KhdUfwVJJE) are: replaced by `[id]`.

Raw events (`eventProblems.raw`) are masked by field name as well: phone fields masked (138****5678), WeChat
identifiers and nicknames (and the other fields of `PERSONAL_FIELDS`) left out, whatever their shape.
"""

from __future__ import annotations

import json
import re
from typing import Any

from rules import phone

ID_NUMBER = "[number]"
IDENTIFIER = "[id]"
OMITTED = "[personal data omitted]"
# Field names (lower case, no `_`) whose values identify a person whatever they look like.
PERSONAL_FIELDS = frozenset({"phone", "phonenumber", "mobile", "openid", "unionid", "sessionkey", "nickname",
                             "birthday", "address", "name", "realname", "idcard", "idnumber", "email"})
MAX_DEPTH = 32  # deeper values are not kept (no event or argument of Siyu's is nested this deep)

_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])|(?<!\d)\d{12,}(?!\d)")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_-])(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{16,}"
                    r"(?![A-Za-z0-9_-])")


def clean(text: str) -> str:
    """`text` as valid Unicode: a lone UTF-16 surrogate (JSON's "\\ud800") cannot be encoded, so it is replaced."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def scrub(text: str) -> str:
    """Free text with phone numbers masked and identity numbers and identifier-like tokens replaced."""
    text = phone.redact(clean(text))
    text = _DIGITS.sub(ID_NUMBER, text)
    return _TOKEN.sub(IDENTIFIER, text)


def personal(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in PERSONAL_FIELDS


def masked_value(value: Any, key: str = "", depth: int = 0) -> Any:
    """A JSON value with personal fields left out and free text scrubbed (phones masked), cut below MAX_DEPTH."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if key and personal(key):
        # A phone number is masked as everywhere (staff recognise a caller by its last digits); the rest goes.
        return scrub(str(value)) if _phone_field(key) else OMITTED
    if depth >= MAX_DEPTH:
        return "[nested too deep]"
    if isinstance(value, dict):
        return {scrub(str(k)): masked_value(v, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [masked_value(v, "", depth + 1) for v in value]
    if _names_a_record(key):
        # Siyu's and the sender's own ids (event, member, order...): kept, so staff can trace the problem and
        # erasure can find it; only a phone number written into one is masked.
        return phone.redact(clean(str(value)))
    return scrub(str(value))


def _phone_field(key: str) -> bool:
    return key.lower().replace("_", "").replace("-", "") in ("phone", "phonenumber", "mobile")


def _names_a_record(key: str) -> bool:
    name = key.lower().replace("_", "").replace("-", "")
    return name.endswith("id") or name in ("account", "time", "source", "detailtype", "region")


def masked_raw(text: str) -> str:
    """A raw event (JSON text, or whatever arrived) as kept for staff: masked by field name and by shape."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return scrub(text)
    return json.dumps(masked_value(data), ensure_ascii=False)
