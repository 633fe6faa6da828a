"""Business events, parsed from the EventBridge envelope and validated before any rule sees them.

`parse(raw)` never raises on bad input: it returns `Parsed`, `Ignored` (a detail-type Siyu does not handle) or
`Rejected` (with the reason and the field at fault), so a malformed event is recorded, not lost or retried forever.
Money is integer fen and times are ISO-8601 with a zone (docs/plugins.md, "Events").
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field as dc_field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Mapping

from rules import plain
from rules.clock import parse_time

MAX_EVENT_BYTES = 256 * 1024  # EventBridge's own limit: anything bigger did not come through EventBridge intact
MAX_FEN = 10**11  # one billion yuan: a typo guard, not a business limit

ID_FIELD = {"type": "string", "minLength": 1, "maxLength": 128, "pattern": r"^[A-Za-z0-9_.:@\-]+$"}
FEN_FIELD = {"type": "integer", "minimum": 0, "maximum": MAX_FEN}
_CHANNEL = {"type": "string", "enum": ["miniprogram", "h5", "wecom", "store", "pos", "app", "douyin", "tmall"]}

DETAIL_SCHEMAS: dict[str, dict[str, Any]] = {
    "member.registered": {
        "required": ["brandId", "memberId", "channel"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD, "channel": _CHANNEL,
                       "referralCode": {"type": "string", "maxLength": 32}},
    },
    "order.paid": {
        "required": ["brandId", "memberId", "orderId", "amountFen", "channel"],
        "properties": {
            "brandId": ID_FIELD, "memberId": ID_FIELD, "orderId": ID_FIELD, "amountFen": FEN_FIELD, "channel": _CHANNEL,
            "items": {"type": "array", "maxItems": 500, "items": {
                "type": "object", "required": ["sku", "amountFen"],
                "properties": {"sku": ID_FIELD, "category": {"type": "string", "maxLength": 64},
                               "quantity": {"type": "integer", "minimum": 1, "maximum": 100000},
                               "amountFen": FEN_FIELD}}},
            "couponIds": {"type": "array", "maxItems": 20, "items": ID_FIELD},
        },
    },
    "order.refunded": {
        "required": ["brandId", "memberId", "orderId", "amountFen"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD, "orderId": ID_FIELD, "amountFen": FEN_FIELD,
                       "refundId": ID_FIELD},
    },
    "member.checked_in": {
        "required": ["brandId", "memberId"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD},
    },
    "member.engaged": {
        "required": ["brandId", "memberId", "action"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD,
                       "action": {"type": "string", "minLength": 1, "maxLength": 32, "pattern": r"^[a-z_]+$"},
                       "refId": ID_FIELD},
    },
    "membership.paid": {
        "required": ["brandId", "memberId", "plan", "validUntil"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD, "plan": {"type": "string", "minLength": 1, "maxLength": 32},
                       "validUntil": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$"},
                       "amountFen": FEN_FIELD},
    },
    "order.delivered_late": {
        "required": ["brandId", "memberId", "orderId"],
        "properties": {"brandId": ID_FIELD, "memberId": ID_FIELD, "orderId": ID_FIELD,
                       "promisedAt": {"type": "string", "maxLength": 40},
                       "deliveredAt": {"type": "string", "maxLength": 40}},
    },
}
_VALIDATORS: dict[str, Any] = {}  # validators by detail type, built on first use


def detail_schemas() -> dict[str, Mapping[str, Any]]:
    """Every business event this deployment handles: the core's above and those the rule families declare."""
    from rules.family import families

    return {**DETAIL_SCHEMAS, **{name: e.schema for name, e in families().events.items()}}


def hooks() -> dict[str, str]:
    """Each business event's hook: the core's (`siyu_<detail type with _ for .>`) and the families' own."""
    from rules.family import families

    loaded = families()
    if _HOOKS and _HOOKS[0] is loaded:
        # Asked for every event: made once for the families in use (tests that change them get theirs made
        # afresh). A copy, so a caller that changes its answer changes no one else's.
        return dict(_HOOKS[1])
    made = {**{name: "siyu_" + name.replace(".", "_") for name in DETAIL_SCHEMAS},
            **{name: e.hook for name, e in loaded.events.items()}}
    _HOOKS[:] = [loaded, made]
    return dict(made)


_HOOKS: list[Any] = []  # [the families `hooks()` was made for, what it made]


def hook_for(detail_type: str) -> str:
    """`hooks()[detail_type]` (KeyError for an event no one handles), without copying the table: once per event."""
    from rules.family import families

    if not _HOOKS or _HOOKS[0] is not families():
        hooks()
    return _HOOKS[1][detail_type]


def _validator(detail_type: str) -> Any:
    if detail_type not in _VALIDATORS:
        # Compiled from the schema (rules/schema_check.py), not jsonschema's: importing jsonschema (with attrs and
        # referencing) would be a good part of a cold start, and these schemas need only a few keywords.
        from rules.schema_check import validator

        schema = detail_schemas().get(detail_type)
        if schema is None:
            return None
        _VALIDATORS[detail_type] = validator({"type": "object", **schema})
    return _VALIDATORS[detail_type]

SCHEDULED = "Scheduled Event"
DAILY = "daily"


@dataclass(frozen=True)
class BusinessEvent:
    """One validated business event. `detail` keeps the original fields, read-only, for rules that need more."""

    event_id: str
    detail_type: str
    source: str
    time: datetime
    brand_id: str
    detail: Mapping[str, Any]

    @property
    def member_id(self) -> str | None:
        return self.detail.get("memberId")

    def get(self, name: str, default: Any = None) -> Any:
        return self.detail.get(name, default)


@dataclass(frozen=True)
class SweepEvent:
    """A scheduled sweep: `time` is its "now"."""

    event_id: str
    sweep: str
    time: datetime


@dataclass(frozen=True)
class Parsed:
    event: BusinessEvent | SweepEvent


@dataclass(frozen=True)
class Ignored:
    event_id: str
    detail_type: str
    reason: str


@dataclass(frozen=True)
class Rejected:
    event_id: str
    detail_type: str
    reason: str
    field: str | None = None
    brand_id: str | None = None
    raw: str = dc_field(default="", repr=False)
    # With the id, what makes another delivery "the same event" (kept once as a problem).
    fingerprint: str = ""


# `Parsed(...)` and `BusinessEvent(...)` without their frozen dataclasses' per-field `object.__setattr__`.
_PARSED = plain.maker(Parsed)
_BUSINESS_EVENT = plain.maker(BusinessEvent)

# What `json.dumps(value, **options)` makes with these options, without making its encoder on every call: dumps
# itself builds `JSONEncoder(**options)` and answers its `encode(value)` (an encoder keeps nothing between calls).
# Once per event each (issue 15, engine CPU); tests/unit/test_engine_fast_paths.py compares them with dumps.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str, allow_nan=True)
_AS_SENT = json.JSONEncoder(ensure_ascii=False, default=str)


def fingerprint(detail_type: str, detail: Any) -> str:
    """The event's content, canonically: the same id with another fingerprint is another event reusing the id."""
    try:
        body = _CANONICAL.encode({"detail-type": detail_type, "detail": _plain(detail)})
    except (TypeError, ValueError, RecursionError):
        body = _safe_repr((detail_type, detail))
    return hashlib.sha256(body.encode("utf-8", "backslashreplace")).hexdigest()[:32]


def parse(raw: Any) -> Parsed | Ignored | Rejected:
    """Turn one EventBridge event (as Lambda receives it) into a typed event, or say why not."""
    too_deep = False
    try:
        text = raw if isinstance(raw, str) else _AS_SENT.encode(raw)
    except RecursionError:  # kept as what it is, not its repr: that would walk it down to the limit again
        text, too_deep = f"<{type(raw).__name__} nested too deep to write down>", True
    except (TypeError, ValueError):
        text = _safe_repr(raw)
    # Kept text must be storable: a lone surrogate ("\ud800") cannot be encoded as UTF-8.
    clean_text = _storable(text)
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):
            return Rejected("", "", "the event is not JSON", raw=clean_text, fingerprint=fingerprint("", clean_text))
    if not isinstance(raw, dict):
        return Rejected("", "", "the event is not a JSON object", raw=clean_text,
                        fingerprint=fingerprint("", clean_text))
    event_id = _storable(raw.get("id")) if isinstance(raw.get("id"), str) else ""
    detail_type = _storable(raw.get("detail-type")) if isinstance(raw.get("detail-type"), str) else ""
    detail = raw.get("detail")
    brand_guess = (_storable(detail.get("brandId"))
                   if isinstance(detail, dict) and isinstance(detail.get("brandId"), str) else None)

    def reject(reason: str, field_name: str | None = None) -> Rejected:
        # The fingerprint only a rejection keeps (an applied event's is taken once, by the engine's record).
        return Rejected(event_id, detail_type, reason, field_name, brand_guess, clean_text,
                        fingerprint(detail_type, clean_text if too_deep else detail))

    if too_deep:
        # Refused before anything walks it again: each walk down to Python's recursion limit is a chance for a
        # finaliser run at that depth to fail where nobody can catch it.
        return reject(f"the event is nested more than {MAX_DEPTH} levels deep")
    if clean_text != text:
        return reject("the event holds text that is not valid Unicode (a lone surrogate)")
    if len(text.encode()) > MAX_EVENT_BYTES:
        return reject(f"the event is larger than {MAX_EVENT_BYTES} bytes")
    if not event_id or len(event_id) > 128:
        return reject("the envelope has no usable id", "id")
    if not detail_type:
        return reject("the envelope has no detail-type", "detail-type")
    try:
        time = parse_time(raw.get("time") or "")
    except (ValueError, TypeError, AttributeError, OverflowError):
        return reject("the envelope time is not an ISO-8601 time with a zone", "time")
    source = raw.get("source") if isinstance(raw.get("source"), str) else ""

    if detail_type == SCHEDULED:
        if source != "aws.events":
            return reject("scheduled events come from aws.events", "source")
        return Parsed(SweepEvent(event_id, _sweep_name(raw), time))
    validator = _validator(detail_type)
    if validator is None:
        return Ignored(event_id, detail_type, f"Siyu does not handle {detail_type!r} events")
    if not source.startswith("siyu."):
        return reject("business events come from a siyu.<system> source", "source")
    if not isinstance(detail, dict):
        return reject("detail must be a JSON object", "detail")
    odd = _non_finite(detail, "detail")
    if odd is not None:
        path, deep = odd
        why = f"is nested more than {MAX_DEPTH} levels deep" if deep else "is not a finite number"
        return reject(f"{path} {why}", path)
    if not validator.is_valid(detail):  # a yes/no first: a valid detail (nearly all) builds no error objects
        error = next(iter(sorted(validator.iter_errors(detail), key=lambda e: list(e.path))), None)
        if error is not None:
            return reject(_describe(error), _field(error))
    # Parsed(BusinessEvent(event_id=, detail_type=, source=, time=, brand_id=, detail=)): every field, in order
    # (rules/plain.py), once per event.
    return _PARSED(_BUSINESS_EVENT(event_id, detail_type, source, time, detail["brandId"], _frozen(detail)))


def _storable(text: str) -> str:
    """The text with anything UTF-8 cannot hold (lone surrogates) written as escapes."""
    if text.isascii():  # nearly every id and envelope: ASCII holds no surrogate, so it is kept as it is
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # noqa: BLE001 - a value too deep to print is still kept, by its type
        return f"<{type(value).__name__} that cannot be printed>"


def _non_finite(value: Any, path: str, depth: int = 0) -> tuple[str, bool] | None:
    """The first NaN or infinity in the detail (JSON has none; Python's parser lets them through), as (its path,
    False); or the first object or list nested deeper than `MAX_DEPTH`, as (its path, True): no rule reads so deep,
    and freezing the detail would otherwise recurse down to Python's limit."""
    if isinstance(value, float) and not math.isfinite(value):
        return path, False
    if depth >= MAX_DEPTH:
        return (path, True) if isinstance(value, (dict, list)) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) in _FINITE:  # answered here: no path is built for a value that cannot be odd
                continue
            found = _non_finite(item, f"{path}.{key}", depth + 1)
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if type(item) in _FINITE:
                continue
            found = _non_finite(item, f"{path}.{index}", depth + 1)
            if found:
                return found
    return None


_FINITE = frozenset({str, int, bool, type(None)})  # values `_non_finite` never reports, at any depth
MAX_DEPTH = 50  # levels of objects and lists in a detail (the brand id's object is level 0)


_SCALARS = frozenset({str, int, float, bool, type(None)})
_MAPPINGS = frozenset({dict, MappingProxyType})


def _plain(value: Any) -> Any:
    # The types a parsed detail holds are answered first: the abstract `Mapping` check is several times slower.
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind in _MAPPINGS:
        # A scalar value is its own `_plain`: kept without a call each (issue 15, engine CPU).
        return {str(k): v if type(v) in _SCALARS else _plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _sweep_name(raw: dict) -> str:
    detail = raw.get("detail") if isinstance(raw.get("detail"), dict) else {}
    from rules.family import families

    sweeps = families().sweeps
    if detail.get("sweep") == DAILY or detail.get("sweep") in sweeps:
        return detail["sweep"]
    resources = " ".join(r for r in raw.get("resources") or [] if isinstance(r, str))
    return next((s.name for s in sweeps.values() if s.resource in resources), DAILY)


def _field(error) -> str:
    path = ["detail", *[str(p) for p in error.path]]
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        path.append(missing)
    return ".".join(p for p in path if p)


def _describe(error) -> str:
    name = _field(error)
    match error.validator:
        case "required":
            return f"{name} is missing"
        case "type":
            return f"{name} must be of type {error.validator_value}"
        case "minimum":
            return f"{name} must be at least {error.validator_value}"
        case "maximum":
            return f"{name} must be at most {error.validator_value}"
        case "enum":
            return f"{name} must be one of {', '.join(map(str, error.validator_value))}"
        case "pattern" | "minLength" | "maxLength":
            return f"{name} is not a valid identifier or is too long"
        case "maxItems":
            return f"{name} has too many entries"
    return f"{name}: {error.message[:200]}"


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        # Scalars (most values) are what `_frozen` answers for them: kept without a call each (issue 15).
        return MappingProxyType({k: v if type(v) in _FINITE_OR_FLOAT else _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


_FINITE_OR_FLOAT = _FINITE | {float}  # never a dict or a list: `_frozen` gives them back as they are
