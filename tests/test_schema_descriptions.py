"""The schema is something a front-end team can build on: every type, field and argument says what it is, closed
sets are enums, and engine internals are typed rather than handed out as JSON."""

from __future__ import annotations

import re

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from api.schema import schema

SCHEMA = schema._schema
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}
# Free-form by nature: brand data, a plugin's own parameters, the export itself and masked mutation arguments.
JSON_ON_PURPOSE = {"Tier.benefits", "Plugin.paramsSchema", "Plugin.params", "DataExport.data",
                   "AuditRecord.arguments"}


def _types():
    return [(name, kind) for name, kind in SCHEMA.type_map.items() if not name.startswith("__")]


def test_every_type_field_and_argument_has_a_description():
    missing = []
    for name, kind in _types():
        if isinstance(kind, GraphQLScalarType) and name in BUILT_IN:
            continue
        if not (kind.description or "").strip():
            missing.append(name)
        if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType, GraphQLInputObjectType)):
            for field_name, field in kind.fields.items():
                if not (field.description or "").strip():
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not (arg.description or "").strip():
                        missing.append(f"{name}.{field_name}({arg_name})")
    assert not missing, f"{len(missing)} without a description: {missing}"


def test_enum_values_are_upper_case():
    lower = [f"{name}.{value}" for name, kind in _types() if isinstance(kind, GraphQLEnumType)
             for value in kind.values if not re.fullmatch(r"[A-Z][A-Z0-9_]*", value)]
    assert not lower


def test_only_free_form_data_is_json_outside_deprecated_fields():
    untyped = [f"{name}.{field_name}" for name, kind in _types()
               if isinstance(kind, (GraphQLObjectType, GraphQLInterfaceType))
               for field_name, field in kind.fields.items()
               if get_named_type(field.type).name == "JSON" and not field.deprecation_reason]
    assert sorted(untyped) == sorted(JSON_ON_PURPOSE)


def test_every_pager_is_a_connection_with_page_info():
    pagers = [name for name, kind in _types() if isinstance(kind, GraphQLObjectType) and "edges" in kind.fields]
    assert pagers and all(name.endswith("Connection") and "pageInfo" in SCHEMA.type_map[name].fields
                          for name in pagers), pagers


def test_status_like_strings_are_deprecated_next_to_their_enum():
    replaced = {"Coupon": ("status", "state"), "CommissionRecord": ("status", "state"),
                "PointsEntry": ("kind", "entryType"), "AuditRecord": ("outcome", "result"),
                "Simulation": ("status", "state"), "Member": ("channel", "joinedVia")}
    for type_name, (old, new) in replaced.items():
        fields = SCHEMA.type_map[type_name].fields
        assert fields[old].deprecation_reason and new in fields[old].deprecation_reason
        assert isinstance(get_named_type(fields[new].type), GraphQLEnumType), f"{type_name}.{new}"


def test_set_member_tags_answers_with_its_own_result_type():
    members = {t.name for t in SCHEMA.type_map["SetMemberTagsResult"].types}
    assert "MemberTagsSet" in members and "RegisterMemberSuccess" not in members
