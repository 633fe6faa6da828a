"""The compiled event validation says exactly what jsonschema says, so leaving jsonschema out of a cold start changes
no error an event or a brand's parameters get."""

import copy
import itertools

import pytest
from jsonschema import Draft202012Validator

from rules.events import detail_schemas
from rules.plugin_manager import registry
from rules.schema_check import CompiledValidator, compilable, validator

# Values of every JSON type, and the edges the event schemas draw (lengths, bounds, patterns, bools posing as ints).
ODD_VALUES = [None, True, False, 0, 1, -1, 1.0, 2.5, -0.5, 10**11, 10**11 + 1, 10**30, "", "x", "a b", "ok-id_1.2:3@x",
              "é", "x" * 32, "x" * 33, "x" * 64, "x" * 65, "x" * 128, "x" * 129, "miniprogram", "tmall", "pos ", [],
              [1], ["a"], {}, {"a": 1}, "2026-03-01T10:00:00+08:00", "2026-03-01", "snake_case", "Upper"]


def errors(found):
    return [(e.validator, e.validator_value, list(e.path), e.message) for e in found]


def variants(detail: dict, schema: dict):
    """The detail with each property missing, and each property (and each item's property) set to each odd value."""
    yield detail
    for name in schema.get("properties", {}):
        without = dict(detail)
        without.pop(name, None)
        yield without
        for value in ODD_VALUES:
            yield {**detail, name: value}
    for name, sub in schema.get("properties", {}).items():
        item = sub.get("items")
        if isinstance(item, dict) and item.get("type") == "object":
            good = {p: "x" if s.get("type") == "string" else 1 for p, s in item.get("properties", {}).items()}
            for prop, value in itertools.product([*item.get("properties", {}), "extra"], ODD_VALUES):
                yield {**detail, name: [good, {**good, prop: value}]}
            yield {**detail, name: [good] * (sub.get("maxItems", 3) + 1)}
        elif isinstance(item, dict):
            for value in ODD_VALUES:
                yield {**detail, name: ["ok", value]}
            yield {**detail, name: ["ok"] * (sub.get("maxItems", 3) + 1)}


def sample(schema: dict) -> dict:
    """A detail that fills every property with a plausible value (each variant then breaks one thing)."""
    plausible = {"string": "ok-1", "integer": 100, "array": []}
    detail = {}
    for name, sub in schema.get("properties", {}).items():
        if "enum" in sub:
            detail[name] = sub["enum"][0]
        elif name == "validUntil":
            detail[name] = "2026-12-31T00:00:00+08:00"
        elif name == "action":
            detail[name] = "share"
        else:
            detail[name] = plausible.get(sub.get("type"), "ok")
    return detail


@pytest.mark.parametrize("detail_type", sorted(detail_schemas()))
def test_every_event_schema_is_compiled_and_errs_as_jsonschema_does(detail_type):
    schema = {"type": "object", **detail_schemas()[detail_type]}
    assert compilable(schema), "an event schema left to jsonschema brings it back into every cold start"
    ours, theirs = validator(schema), Draft202012Validator(copy.deepcopy(schema))
    assert isinstance(ours, CompiledValidator)
    checked = 0
    for detail in itertools.chain(variants(sample(schema), schema), ODD_VALUES):
        assert errors(ours.iter_errors(detail)) == errors(theirs.iter_errors(detail)), detail
        # The fast yes/no that parsing asks first (a valid event builds no error at all) answers as jsonschema.
        assert ours.is_valid(detail) is theirs.is_valid(detail), detail
        checked += 1
    assert checked > 100


@pytest.mark.parametrize("schema, instance", [
    ({"type": ["integer", "null"], "minimum": 3}, 2),
    ({"type": ["integer", "null"]}, "x"),
    ({"enum": [1, True, "a", [1], {"k": 1}]}, 1.0),
    ({"enum": [1, True, "a", [1], {"k": 1}]}, False),
    ({"enum": [1, True, "a", [1], {"k": 1}]}, [True]),
    ({"enum": [1, True, "a", [1], {"k": 1}]}, {"k": 1.0}),
    ({"minItems": 1, "maxItems": 0, "items": {"type": "string"}}, [1, 2]),
    ({"minLength": 2, "maxLength": 0}, "x"),
    ({"properties": {"a": {"type": "string"}, "b": True}, "required": ["a", "b", "c"]}, {"a": 1}),
    ({"type": "number", "maximum": 2.5}, 3),
    ({"type": "integer"}, 3.0),
    ({"type": ["integer", "null"], "minimum": 3}, None),
    ({"enum": [1, True, "a", [1], {"k": 1}]}, [1]),
    ({"minItems": 1, "maxItems": 2, "items": {"type": "string", "pattern": "^a"}}, ["ab"]),
    ({"properties": {"a": {"type": "string", "maxLength": 1}}, "required": ["a"]}, {"a": "x", "b": 2}),
    ({"type": "string", "enum": ["a", 1, ["a"]], "minLength": 1}, "a"),
    ({"type": "string", "enum": ["a", 1, ["a"]]}, "b"),
    ({"type": "string", "enum": ["a", 1, ["a"]]}, 1),
    ({"type": "integer", "minimum": 1, "maximum": 3}, 3.0),
    ({"type": "integer", "minimum": 1, "maximum": 3}, 3.5),
    ({"type": "integer", "minimum": 1, "maximum": 3}, True),
    ({"type": "integer", "minimum": 1.5}, 1),
])
def test_the_compiled_keywords_err_as_jsonschema_does_at_their_edges(schema, instance):
    assert compilable(schema)
    assert errors(validator(schema).iter_errors(instance)) == errors(Draft202012Validator(schema).iter_errors(instance))
    assert validator(schema).is_valid(instance) is Draft202012Validator(schema).is_valid(instance)


def test_a_schema_with_any_other_keyword_is_left_to_jsonschema():
    for schema in ({"type": "object", "additionalProperties": False}, {"format": "email"}, {"$ref": "#/$defs/a"},
                   {"properties": {"a": {"oneOf": [{"type": "string"}]}}}, {"type": "decimal"}, {"items": [{}]},
                   {"items": False}, {"properties": {"a": False}}):
        assert not compilable(schema)
        assert isinstance(validator(schema), Draft202012Validator)


def test_every_plugins_parameters_get_the_errors_jsonschema_gives():
    plugins = registry()
    for name, info in plugins.infos.items():
        ours, theirs = validator(info.params_schema), Draft202012Validator(dict(info.params_schema))
        for prop in list(info.params_schema.get("properties", {})) or ["any"]:
            for value in ODD_VALUES:
                params = {prop: value}
                assert errors(ours.iter_errors(params)) == errors(theirs.iter_errors(params)), (name, params)
                assert ours.is_valid(params) is theirs.is_valid(params), (name, params)
