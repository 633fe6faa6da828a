"""Business failures. Each becomes a typed result in the GraphQL schema, never a 500.

They are raised by the pure planners and services in `rules/` and caught by the adapters (`api/`, `events/`).
"""

from __future__ import annotations

from typing import Any

from rules import messages


class SiyuError(Exception):
    """A business failure with a stable code, and a message key with parameters (rules/messages.py): the API shows
    it in the caller's language; `message` is the English rendering, for logs and staff-facing problems."""

    code = "ERROR"

    def __init__(self, key: str | None = None, /, **params: Any) -> None:
        self.key = key or self.code
        self.params = params
        super().__init__(self.key)

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        return self.render(messages.EN)

    def render(self, language: str) -> str:
        return messages.render(self.key, language, self.params)


class InvalidInput(SiyuError):
    """An input was refused: `field` names it, `key` (an `invalid.*` entry of rules/messages.py) says why."""

    code = "INVALID_INPUT"

    def __init__(self, field: str, key: str, /, **params: Any) -> None:
        if not key.startswith("invalid."):
            # A sentence instead of a key (code not yet moved to the catalogue): shown as it is, after a Chinese
            # lead-in; tests/unit/test_messages.py fails on any such call in the code base.
            key, params = "invalid.untranslated", {**params, "detail": key}
        super().__init__(key, field=field, **params)
        self.field = field


class NotFound(SiyuError):
    code = "NOT_FOUND"


class MemberNotFound(NotFound):
    code = "MEMBER_NOT_FOUND"

    def __init__(self, member_id: str) -> None:
        super().__init__(member_id=member_id)
        self.member_id = member_id


class BrandNotConfigured(NotFound):
    code = "BRAND_NOT_CONFIGURED"

    def __init__(self, brand_id: str) -> None:
        super().__init__(brand_id=brand_id)
        self.brand_id = brand_id


class AlreadyRegistered(SiyuError):
    """The phone number, openid or unionid already belongs to a member of this brand."""

    code = "ALREADY_REGISTERED"

    def __init__(self, field: str) -> None:
        super().__init__(field=field)
        self.field = field

    def render(self, language: str) -> str:
        return messages.render(self.key, language, {"field": messages.render(f"field.{self.field}", language)})


class InsufficientPoints(SiyuError):
    code = "INSUFFICIENT_POINTS"

    def __init__(self, requested: int, available: int) -> None:
        super().__init__(requested=requested, available=available)
        self.requested = requested
        self.available = available


class PointsDebtOutstanding(SiyuError):
    """Refunds took back points the member had already spent: nothing can be redeemed until that is repaid."""

    code = "POINTS_DEBT_OUTSTANDING"

    def __init__(self, debt: int) -> None:
        super().__init__(debt=debt)
        self.debt = debt


class IdempotencyKeyReused(SiyuError):
    """The same idempotency key came back with a different request: refusing rather than guessing."""

    code = "IDEMPOTENCY_KEY_REUSED"

    def __init__(self, key: str) -> None:
        super().__init__(key=key)
        self.key = key


class EntryNotFound(NotFound):
    code = "ENTRY_NOT_FOUND"

    def __init__(self, entry_id: str) -> None:
        super().__init__(entry_id=entry_id)
        self.entry_id = entry_id


class EntryNotReversible(SiyuError):
    code = "ENTRY_NOT_REVERSIBLE"

    def __init__(self, entry_id: str, reason: str, **params: Any) -> None:
        self.entry_id = entry_id
        self.reason = reason  # FINAL, SPENT or ALREADY_REVERSED: `reversal.<reason>` in rules/messages.py
        self.reason_params = params
        super().__init__(entry_id=entry_id, reason=reason)

    def render(self, language: str) -> str:
        why = messages.render(f"reversal.{self.reason}", language, self.reason_params)
        return messages.render(self.key, language, {"entry_id": self.entry_id, "reason": why})


class WriteConflict(Exception):
    """Another writer changed what a plan was based on; the caller re-reads and plans again."""


class StoreUnavailable(WriteConflict):
    """The database did not answer this time (another transaction held an item, throttling, a timeout): read
    again and retry, like a conflict; past the retry budget the caller answers `Busy`."""


class Busy(SiyuError):
    """Too many concurrent writers kept winning; the request changed nothing and can be retried."""

    code = "BUSY"

    def __init__(self, detail: str = "") -> None:
        super().__init__()
        self.detail = detail  # what was busy, for logs: members see the catalogue's sentence

    def __str__(self) -> str:
        return self.detail or self.message


class TooManyLots(SiyuError):
    """One operation would have to touch more lots than one atomic write can hold."""

    code = "TOO_MANY_LOTS"

    def __init__(self, lots: int, limit: int) -> None:
        super().__init__(lots=lots, limit=limit)
        self.lots = lots
        self.limit = limit


class PointsPaymentTooLarge(SiyuError):
    """Points may pay only part of an order (元气森林: at most 50%)."""

    code = "POINTS_PAYMENT_TOO_LARGE"

    def __init__(self, max_points: int, max_fen: int) -> None:
        super().__init__(max_points=max_points, max_fen=max_fen)
        self.max_points = max_points
        self.max_fen = max_fen


class RateLimited(SiyuError):
    """The member attempted this action too often in the current window; nothing was done."""

    code = "RATE_LIMITED"

    def __init__(self, action: str, retry_after_seconds: int) -> None:
        super().__init__(action=action, retry_after_seconds=retry_after_seconds)
        self.action = action
        self.retry_after_seconds = retry_after_seconds


class InvalidLoginCode(SiyuError):
    """WeChat refused the mini-program login code (unknown, already used, or expired)."""

    code = "INVALID_LOGIN_CODE"

    def __init__(self) -> None:
        super().__init__()


class PluginFailed(Exception):
    """A plugin raised, or returned what the engine refuses: the event fails, naming the plugin."""

    def __init__(self, plugin: str, error: BaseException | str) -> None:
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        super().__init__(f"plugin {plugin!r} failed: {reason}")
        self.plugin = plugin
        self.reason = reason
