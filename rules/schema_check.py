"""JSON Schema (draft 2020-12) validation that leaves jsonschema out of a cold start where it can.

Importing jsonschema (with referencing, attrs, rpds and its format checkers) costs a Lambda about half an `import
boto3` of CPU, and every business event is validated before any rule sees it (README, "Cold-start cost"). The
events' schemas use a handful of keywords, so `validator(schema)` compiles a schema made only of those into plain
checks; a schema using any other keyword (a family's, a plugin's parameters) gets jsonschema's own
`Draft202012Validator`, imported then. Either way the schema is the contract and `iter_errors(instance)` yields
errors as jsonschema does: the same `validator` (keyword), `validator_value`, `path`, `instance` and `message`, in
the same order, so callers describe an error the same way whichever validated it
(tests/unit/test_schema_check.py compares the two on every event schema and many wrong details).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from numbers import Number
from typing import Any, Callable, Iterator

# Keywords that only describe (jsonschema checks nothing for them either).
_ANNOTATIONS = frozenset({"title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
                          "writeOnly"})
_COMPILED = frozenset({"type", "required", "properties", "items", "enum", "minimum", "maximum", "minLength",
                       "maxLength", "pattern", "minItems", "maxItems"}) | _ANNOTATIONS


def _is_integer(value: Any) -> bool:
    # Draft 6 on: 1.0 is an integer; a bool never is.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _is_number(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, Number)


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


class SchemaError:
    """One way an instance breaks its schema, with the attributes of jsonschema's `ValidationError` callers read."""

    __slots__ = ("validator", "validator_value", "instance", "message", "path")

    def __init__(self, keyword: str | None, value: Any, instance: Any, message: str, path: tuple = ()) -> None:
        self.validator = keyword
        self.validator_value = value
        self.instance = instance
        self.message = message
        self.path = path  # from the instance's root: property names and array indexes

    @property
    def relative_path(self) -> tuple:
        return self.path

    def __repr__(self) -> str:
        return f"<SchemaError {self.validator}: {self.message!r} at {list(self.path)}>"


Check = Callable[[Any, tuple], Iterator[SchemaError]]


def compilable(schema: Any) -> bool:
    """Whether every part of `schema` uses only the keywords compiled here (else jsonschema validates it)."""
    if isinstance(schema, bool):
        return schema  # jsonschema reports a `false` subschema's error without its path: left to it
    if not isinstance(schema, Mapping) or not set(schema) <= _COMPILED:
        return False
    types = schema.get("type", "object")
    if not all(isinstance(t, str) and t in _TYPES for t in ([types] if isinstance(types, str) else types)):
        return False
    properties = schema.get("properties", {})
    items = schema.get("items", True)
    return (isinstance(properties, Mapping) and all(compilable(s) for s in properties.values())
            and compilable(items) and isinstance(schema.get("pattern", ""), str)
            and all(_is_number(schema.get(k, 0)) for k in ("minimum", "maximum"))
            and all(_is_integer(schema.get(k, 0)) for k in ("minLength", "maxLength", "minItems", "maxItems"))
            and isinstance(schema.get("required", []), list) and isinstance(schema.get("enum", []), list))


def _equal(one: Any, two: Any) -> bool:
    """JSON equality: True is not 1, and sequences and mappings compare by that rule too (as jsonschema's enum)."""
    if one is two:
        return True
    if isinstance(one, str) or isinstance(two, str):
        return one == two
    if isinstance(one, Sequence) and isinstance(two, Sequence):
        return len(one) == len(two) and all(_equal(a, b) for a, b in zip(one, two))
    if isinstance(one, Mapping) and isinstance(two, Mapping):
        return len(one) == len(two) and all(k in two and _equal(v, two[k]) for k, v in one.items())
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    return one == two


def _compile(schema: Any) -> Check:
    if schema is True:
        return lambda instance, path: iter(())
    checks = [_keyword(name, value) for name, value in schema.items() if name not in _ANNOTATIONS]

    def check(instance: Any, path: tuple) -> Iterator[SchemaError]:
        for each in checks:
            yield from each(instance, path)
    return check


def _keyword(name: str, value: Any) -> Check:  # noqa: C901 - one branch per keyword, as jsonschema's table
    is_string, is_array, is_object = _TYPES["string"], _TYPES["array"], _TYPES["object"]
    if name == "type":
        types = [value] if isinstance(value, str) else list(value)
        tests = [_TYPES[t] for t in types]
        shown = ", ".join(repr(t) for t in types)

        def check(instance, path):
            if not any(test(instance) for test in tests):
                yield SchemaError(name, value, instance, f"{instance!r} is not of type {shown}", path)
    elif name == "required":
        def check(instance, path):
            if is_object(instance):
                for prop in value:
                    if prop not in instance:
                        yield SchemaError(name, value, instance, f"{prop!r} is a required property", path)
    elif name == "properties":
        subs = [(prop, _compile(sub)) for prop, sub in value.items()]

        def check(instance, path):
            if is_object(instance):
                for prop, sub in subs:
                    if prop in instance:
                        yield from sub(instance[prop], (*path, prop))
    elif name == "items":
        sub = _compile(value)

        def check(instance, path):
            if is_array(instance):
                for index, item in enumerate(instance):
                    yield from sub(item, (*path, index))
    elif name == "enum":
        def check(instance, path):
            if not any(_equal(each, instance) for each in value):
                yield SchemaError(name, value, instance, f"{instance!r} is not one of {value!r}", path)
    elif name in ("minimum", "maximum"):
        below = name == "minimum"

        def check(instance, path):
            if _is_number(instance) and (instance < value if below else instance > value):
                words = "less than the minimum" if below else "greater than the maximum"
                yield SchemaError(name, value, instance, f"{instance!r} is {words} of {value!r}", path)
    elif name in ("minLength", "maxLength", "minItems", "maxItems"):
        applies = is_string if name.endswith("Length") else is_array
        if name.startswith("min"):
            words = "should be non-empty" if value == 1 else "is too short"
        else:
            words = "is expected to be empty" if value == 0 else "is too long"
        shorter = name.startswith("min")

        def check(instance, path):
            if applies(instance) and (len(instance) < value if shorter else len(instance) > value):
                yield SchemaError(name, value, instance, f"{instance!r} {words}", path)
    elif name == "pattern":
        search = re.compile(value).search

        def check(instance, path):
            if is_string(instance) and not search(instance):
                yield SchemaError(name, value, instance, f"{instance!r} does not match {value!r}", path)
    else:  # compilable() lets no other keyword through
        raise ValueError(f"no compiled check for {name!r}")
    return check


Valid = Callable[[Any], bool]


def _compile_valid(schema: Any) -> Valid:
    """Whether an instance meets `schema`, as `_compile`'s checks would find no error, without building any.

    Every business event is validated before any rule sees it, and nearly all are valid: a plain predicate per
    keyword answers that without a generator per keyword and property (issue 15, engine CPU). `_compile` stays the
    one source of errors; tests/unit/test_schema_check.py checks the two agree with jsonschema on every event schema,
    every plugin's parameters and the keywords' edges."""
    if schema is True:
        return lambda instance: True
    keywords = {name: value for name, value in schema.items() if name not in _ANNOTATIONS}
    if keywords.get("type") == "string" and set(keywords) <= {"type", "minLength", "maxLength", "pattern", "enum"}:
        return _string_valid(keywords)
    if keywords.get("type") == "integer" and set(keywords) <= {"type", "minimum", "maximum"}:
        return _integer_valid(keywords)
    tests = [_keyword_valid(name, value) for name, value in keywords.items()]
    if len(tests) == 1:
        return tests[0]

    def valid(instance: Any) -> bool:
        for test in tests:
            if not test(instance):
                return False
        return True
    return valid


def _string_valid(keywords: Mapping[str, Any]) -> Valid:
    """A string's schema (every identifier and channel of an event) as one test: the type first, then length,
    pattern and enum, which then need not ask the type again. For a string, `_equal(each, instance)` is
    `each == instance`, so the enum is `instance in enum`."""
    shortest, longest = keywords.get("minLength", 0), keywords.get("maxLength")
    search = re.compile(keywords["pattern"]).search if "pattern" in keywords else None
    choices = keywords.get("enum")

    def valid(instance: Any) -> bool:
        if not isinstance(instance, str) or len(instance) < shortest:
            return False
        if longest is not None and len(instance) > longest:
            return False
        if search is not None and search(instance) is None:
            return False
        return choices is None or instance in choices
    return valid


def _integer_valid(keywords: Mapping[str, Any]) -> Valid:
    """An integer's schema (every amount in fen) as one test: an integer is a number, so the bounds need not ask."""
    lowest, highest = keywords.get("minimum"), keywords.get("maximum")

    def valid(instance: Any) -> bool:
        if not _is_integer(instance):
            return False
        return not (lowest is not None and instance < lowest) and not (highest is not None and instance > highest)
    return valid


def _keyword_valid(name: str, value: Any) -> Valid:  # noqa: C901 - one branch per keyword, as `_keyword`
    is_string, is_array, is_object = _TYPES["string"], _TYPES["array"], _TYPES["object"]
    if name == "type":
        tests = [_TYPES[t] for t in ([value] if isinstance(value, str) else list(value))]
        if len(tests) == 1:
            return tests[0]
        return lambda instance: any(test(instance) for test in tests)
    if name == "required":
        return lambda instance: not is_object(instance) or all(prop in instance for prop in value)
    if name == "properties":
        subs = [(prop, _compile_valid(sub)) for prop, sub in value.items()]

        def valid(instance):
            if is_object(instance):
                for prop, sub in subs:
                    if prop in instance and not sub(instance[prop]):
                        return False
            return True
        return valid
    if name == "items":
        sub = _compile_valid(value)
        return lambda instance: not is_array(instance) or all(sub(item) for item in instance)
    if name == "enum":
        return lambda instance: any(_equal(each, instance) for each in value)
    if name == "minimum":
        return lambda instance: not _is_number(instance) or not instance < value
    if name == "maximum":
        return lambda instance: not _is_number(instance) or not instance > value
    if name in ("minLength", "maxLength", "minItems", "maxItems"):
        applies = is_string if name.endswith("Length") else is_array
        if name.startswith("min"):
            return lambda instance: not applies(instance) or not len(instance) < value
        return lambda instance: not applies(instance) or not len(instance) > value
    if name == "pattern":
        search = re.compile(value).search
        return lambda instance: not is_string(instance) or search(instance) is not None
    raise ValueError(f"no compiled check for {name!r}")  # compilable() lets no other keyword through


class CompiledValidator:
    """`iter_errors` for a schema made of the keywords above, as `Draft202012Validator(schema).iter_errors`;
    `is_valid` as its `is_valid`, faster than looking for a first error (`_compile_valid`)."""

    def __init__(self, schema: Mapping[str, Any] | bool) -> None:
        self.schema = schema
        self._check = _compile(schema)
        self.is_valid: Valid = _compile_valid(schema)

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        return self._check(instance, ())


def validator(schema: Mapping[str, Any] | bool) -> Any:
    """A validator for `schema`: compiled here when it can be, else jsonschema's (imported only then)."""
    if compilable(schema):
        return CompiledValidator(schema)
    from jsonschema import Draft202012Validator

    return Draft202012Validator(dict(schema) if isinstance(schema, Mapping) else schema)
