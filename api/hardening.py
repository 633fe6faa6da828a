"""What one GraphQL request may ask for, and the stable `extensions.code` on every error a client sees.

Limits (settings, per request): document size in tokens (refused while parsing, before any work), a validation
cost budget (fields, selections sharing a response key, all selections: refused after parsing, before any
validation rule runs; the strictest for callers without a token, api/validation_budget.py), selection depth and
number of aliases (refused while validating, before any resolver runs). Introspection is refused, and graphql-core's
"Did you mean" suggestions are cut from messages, on every stage but local.
Each refusal carries `LIMIT_EXCEEDED` (introspection: `FORBIDDEN`).

Codes (README, "Security"): UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, LIMIT_EXCEEDED, NOT_FOUND, INTERNAL.
Errors raised on purpose already carry one; syntax, validation and variable errors get BAD_USER_INPUT; anything
else is a bug or an outage: masked (the client sees "Internal error", code INTERNAL) and logged by the schema.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterator

from graphql import GraphQLError, GraphQLSyntaxError, ValidationRule
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)

from api.validation_budget import ValidationBudget
from infra.settings import settings
from rules import messages

UNAUTHENTICATED = "UNAUTHENTICATED"
FORBIDDEN = "FORBIDDEN"
BAD_USER_INPUT = "BAD_USER_INPUT"
LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL"
CODES = (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, LIMIT_EXCEEDED, NOT_FOUND, INTERNAL)
INTERNAL_MESSAGE = "Internal error"


def _coded(rule: type[ValidationRule], code: str) -> type[ValidationRule]:
    """The same validation rule, its errors carrying `code`.

    strawberry's limiters report through the validation context while they are being built; the context's
    `on_error` is swapped for that moment only."""

    class Coded(rule):  # type: ignore[misc, valid-type]
        def __init__(self, context) -> None:
            report = context.on_error

            def with_code(error: GraphQLError) -> None:
                error.extensions = {**(error.extensions or {}), "code": code}
                report(error)

            context.on_error = with_code
            try:
                super().__init__(context)
            finally:
                context.on_error = report

        def report_error(self, error: GraphQLError) -> None:  # rules that report while visiting
            error.extensions = {**(error.extensions or {}), "code": code}
            super().report_error(error)

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


class DepthLimit(QueryDepthLimiter):
    def __init__(self, max_depth: int) -> None:
        super().__init__(max_depth=max_depth)
        self.validation_rules = [_coded(rule, LIMIT_EXCEEDED) for rule in self.validation_rules]


class AliasLimit(MaxAliasesLimiter):
    def __init__(self, max_alias_count: int) -> None:
        super().__init__(max_alias_count=max_alias_count)
        self.validation_rules = [_coded(rule, LIMIT_EXCEEDED) for rule in self.validation_rules]


class TokenLimit(MaxTokensLimiter):
    """graphql-core stops parsing at the limit with a syntax error; this gives that error its code."""

    def on_parse(self) -> Iterator[None]:
        yield
        # strawberry catches the parser's error itself and keeps it as the request's error: code it in place.
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, GraphQLSyntaxError) and f"more than {self.max_token_count} tokens" in error.message:
                error.extensions = {**(error.extensions or {}), "code": LIMIT_EXCEEDED}


_NO_INTROSPECTION = _coded(NoSchemaIntrospectionCustomRule, FORBIDDEN)


class NoIntrospectionInProd(AddValidationRules):
    """Outside local the schema is not handed to whoever asks (`__schema`, `__type`); `__typename` stays allowed."""

    def __init__(self) -> None:
        super().__init__([_NO_INTROSPECTION])

    def on_operation(self) -> Iterator[None]:
        if settings().is_hardened:
            yield from super().on_operation()
        else:
            yield


def is_internal(error: GraphQLError) -> bool:
    """An error no one raised on purpose: an exception that is not a GraphQL error, or an execution error without
    a code (e.g. a resolver returning null for a non-null field). Its text may hold internals: never shown."""
    if (error.extensions or {}).get("code"):
        return False
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if original is not None and not isinstance(original, GraphQLError):
        return True
    return error.path is not None


# graphql-core's suggestions ("Did you mean 'me'?", "... the enum value 'ALL'?") name fields, arguments, types and
# values: with introspection off, they would hand the schema out one guess at a time.
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


class CodedErrors(MaskErrors):
    """Masks internal errors (code INTERNAL) and gives every other error without a code BAD_USER_INPUT: what is
    left is about the request itself (syntax, unknown fields, wrong variable types). Outside local, suggestions
    are cut from messages."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_internal, error_message=INTERNAL_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        masked = super().anonymise_error(error)
        masked.extensions = {"code": INTERNAL}
        return masked

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        hardened = settings().is_hardened
        language = getattr(self.execution_context.context, "language", messages.DEFAULT_LANGUAGE)
        for error in processed:
            if not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": BAD_USER_INPUT}
            if hardened:
                error.message = without_suggestions(error.message)
            error.message = localised(error, language)
        return processed


def localised(error: GraphQLError, language: str) -> str:
    """The error's message in `language`: Siyu's own errors carry their sentence (api/request.py graphql_error);
    graphql-core's (syntax, unknown fields, limits) are English and get a translated lead-in by code."""
    cause: Any = error
    while cause is not None:
        sentence = getattr(cause, "siyu_message", None)
        if sentence is not None:
            return sentence.render(language)
        cause = getattr(cause, "original_error", None)
    if language == messages.EN:
        return error.message
    return messages.render(f"graphql.{error.extensions['code']}", language, {"detail": error.message})


def _budget() -> ValidationBudget:
    config = settings()
    return ValidationBudget(authenticated=config.graphql_budget, anonymous=config.graphql_anonymous_budget,
                            introspection=not config.is_hardened)


# Built per operation from the settings in force (a Lambda container reads them once; tests reload them).
EXTENSIONS: list[Callable[[], SchemaExtension]] = [
    _budget,
    lambda: TokenLimit(settings().graphql_max_tokens),
    lambda: DepthLimit(settings().graphql_max_depth),
    lambda: AliasLimit(settings().graphql_max_aliases),
    NoIntrospectionInProd,
    CodedErrors,
]
