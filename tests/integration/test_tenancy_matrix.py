"""Tenancy, field by field, generated from the schema itself.

Every Query and Mutation field of `api.schema.schema` is called with arguments and a selection built from its
types, as (a) nobody, (b) another member of the victim's brand, (c) staff of another brand. A field added later is
covered without touching this file; one whose arguments cannot be built fails here by name (add a sample below),
and so does a field without a permission class that is not declared public.

Expected: no token reaches nothing but the public fields (UNAUTHENTICATED); a member token reaches member fields
(they work, on the caller's own data) and is refused staff fields (FORBIDDEN); a staff token of another brand
reaches staff fields (they work, on its own brand) and is refused member fields (FORBIDDEN). A field the caller may
use that is asked about the victim's id may also answer NOT_FOUND or FORBIDDEN. Whatever the answer, nothing of
the victim member or the victim brand appears in it, and nothing of theirs is written.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    Undefined,
    get_named_type,
    is_leaf_type,
    print_ast,
)
from graphql.utilities import ast_from_value

from api.permissions import IsMember, IsStaff
from api.schema import schema
from infra import keys
from infra.models import SiyuItem
from infra.settings import settings
from infra.wechat import LocalWechatClient
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from tests.helpers import call_graphql, earn, error_codes, new_phone, register, token

NOW = datetime.now(timezone.utc)
# Fields anyone may call without a token. A new field without a permission class fails the matrix until it is
# named here on purpose.
PUBLIC = {"loginWithWechat"}
MAX_NESTING = 5  # object levels selected below a root field (the depth limit is 8)
VICTIM_POINTS = 7919
VICTIM_GROWTH = 3137


@dataclass
class World:
    victim_brand: str
    victim_brand_name: str
    victim: str
    victim_phone: str
    victim_code: str  # the WeChat login code that is the victim, locally
    attacker: str  # a member of the victim's brand
    other_brand: str

    def secrets(self) -> dict[str, str]:
        """What must never appear in an answer to someone else (the member id: unless they sent it)."""
        from infra.runtime import store

        state = store().load_member(self.victim_brand, self.victim)
        wechat = LocalWechatClient().answer(self.victim_brand, self.victim_code)
        entries = store().entries(self.victim_brand, self.victim)
        return {
            "brand name": self.victim_brand_name,
            "phone": self.victim_phone,
            "masked phone": state.profile.phone_masked,
            "referral code": state.profile.referral_code,
            "openid": wechat["openid"],
            "unionid": wechat["unionid"],
            **{f"lot {lot.lot_id}": lot.lot_id for lot in state.points.lots},
            **{f"entry {e.entry_id}": e.entry_id for e in entries},
        }


@pytest.fixture
def world(store, plugins) -> World:
    from rules.members import LookupKind, lookup_value

    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers", "points_expiry")}
    suffix = uuid.uuid4().hex[:8]
    victim_brand, other_brand = f"v{suffix}", f"o{suffix}"
    name = f"受害品牌-{suffix}"
    store.put_brand(BrandConfig(victim_brand, name, BAIGUOYUAN_LADDER, plugins=enabled))
    store.put_brand(BrandConfig(other_brand, "别的品牌", BAIGUOYUAN_LADDER, plugins=enabled))
    phone, code = new_phone(), f"victim{suffix}"
    wechat = LocalWechatClient().answer(victim_brand, code)
    victim = register(store, victim_brand, NOW - timedelta(days=30), phone=phone, openid=wechat["openid"],
                      unionid=wechat["unionid"])
    earn(store, victim_brand, victim, VICTIM_POINTS, NOW - timedelta(days=2))
    profile = store.load_member(victim_brand, victim).profile
    store.set_standing(profile, growth=VICTIM_GROWTH, tier_code="JIN", tier_valid_until=None)
    assert store.find_member_id(victim_brand, LookupKind.OPENID,
                                lookup_value(LookupKind.OPENID, wechat["openid"], settings().phone_hash_key)) == victim
    attacker = register(store, victim_brand, NOW - timedelta(days=1))
    earn(store, victim_brand, attacker, 500, NOW - timedelta(days=1))
    register(store, other_brand, NOW - timedelta(days=1))
    return World(victim_brand, name, victim, phone, code, attacker, other_brand)


# ---- building calls from the schema --------------------------------------------------------------------------------


class CannotBuild(Exception):
    pass


def root_fields() -> list[tuple[str, str, Any, str]]:
    """(operation, field name, graphql field, role) for every root field; role is member, staff or public."""
    found = []
    for operation, type_name in (("query", "Query"), ("mutation", "Mutation")):
        definition = schema.get_type_by_name(type_name)
        roles = {schema.config.name_converter.get_graphql_name(f): f.permission_classes for f in definition.fields}
        for name, field in schema._schema.get_type(type_name).fields.items():
            permissions = roles[name]
            if IsMember in permissions:
                role = "member"
            elif IsStaff in permissions:
                role = "staff"
            elif name in PUBLIC:
                role = "public"
            else:
                raise AssertionError(f"{type_name}.{name} has no permission class and is not declared public")
            found.append((operation, name, field, role))
    return found


class Samples:
    """Argument values by name, then by type. IDs are the victim's member id: every field that takes an id is
    asked about the victim."""

    def __init__(self, world: World) -> None:
        self.world = world
        self._keys = itertools.count()

    def by_name(self, name: str) -> Any:
        named = {
            "phone": new_phone,
            "channel": lambda: "miniprogram",
            "brandId": lambda: self.world.victim_brand,
            "code": lambda: f"matrix{next(self._keys)}",
            "idempotencyKey": lambda: f"matrix-{uuid.uuid4().hex[:12]}",
            "days": lambda: 30,
            "first": lambda: 5,
        }
        return named[name]() if name in named else None

    def by_type(self, type_: Any, where: str) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return self.by_type(type_.of_type, where)
        if isinstance(type_, GraphQLList):
            return [self.by_type(type_.of_type, where)]
        if isinstance(type_, GraphQLEnumType):
            return next(iter(type_.values))
        if isinstance(type_, GraphQLInputObjectType):
            return {name: self.value(name, f.type, f"{where}.{name}") for name, f in type_.fields.items()
                    if isinstance(f.type, GraphQLNonNull) and f.default_value is Undefined}
        if isinstance(type_, GraphQLScalarType):
            scalars = {"ID": self.world.victim, "String": "matrix", "Int": 1, "Float": 1.0, "Boolean": True,
                       "JSON": {}, "DateTime": NOW.isoformat(), "Date": NOW.date().isoformat()}
            if type_.name in scalars:
                return scalars[type_.name]
        raise CannotBuild(f"no sample value for {type_} at {where}: add one to Samples in {__name__}")

    def value(self, name: str, type_: Any, where: str) -> Any:
        named = self.by_name(name)
        return named if named is not None else self.by_type(type_, where)


def required(args: dict) -> dict:
    return {n: a for n, a in args.items() if isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined}


def selection(type_: Any, samples: Samples, where: str, nesting: int = 0) -> str:
    named = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    if nesting >= MAX_NESTING:
        return "{ __typename }"
    if isinstance(named, (GraphQLUnionType, GraphQLInterfaceType)):
        possible = schema._schema.get_possible_types(named)
        parts = [f"... on {t.name} {selection(t, samples, f'{where}<{t.name}>', nesting)}" for t in possible]
        return "{ __typename " + " ".join(parts) + " }"
    assert isinstance(named, GraphQLObjectType), named
    parts = ["__typename"]
    for name, field in named.fields.items():
        literal_args = ""
        if required(field.args):
            values = {n: samples.value(n, a.type, f"{where}.{name}({n})") for n, a in required(field.args).items()}
            literal_args = "(" + ", ".join(f"{n}: {print_ast(ast_from_value(v, field.args[n].type))}"
                                           for n, v in values.items()) + ")"
        parts.append(f"{name}{literal_args} {selection(field.type, samples, f'{where}.{name}', nesting + 1)}")
    return "{ " + " ".join(parts) + " }"


def call(operation: str, name: str, field: Any, samples: Samples) -> tuple[str, dict]:
    variables = {n: samples.value(n, a.type, f"{name}({n})") for n, a in required(field.args).items()}
    declared = ", ".join(f"${n}: {a.type}" for n, a in required(field.args).items())
    passed = ", ".join(f"{n}: ${n}" for n in variables)
    document = (f"{operation}{f'({declared})' if declared else ''} "
                f"{{ {name}{f'({passed})' if passed else ''} {selection(field.type, samples, name)} }}")
    return document, variables


# ---- the matrix ----------------------------------------------------------------------------------------------------


EXPECTED = {
    # caller: {field role: expected error codes; [] means the field works}
    "nobody": {"public": [], "member": ["UNAUTHENTICATED"], "staff": ["UNAUTHENTICATED"]},
    "member of the victim's brand": {"public": [], "member": [], "staff": ["FORBIDDEN"]},
    "staff of another brand": {"public": [], "member": ["FORBIDDEN"], "staff": []},
}


def bearer(world: World, caller: str) -> str | None:
    return {"nobody": None,
            "member of the victim's brand": token("member", world.attacker, world.victim_brand),
            "staff of another brand": token("staff", "matrix-staff", world.other_brand)}[caller]


def victim_state(world: World) -> list[dict]:
    """Every item in the victim's partitions and the victim brand's configuration, as stored."""
    partitions = [keys.member_pk(world.victim_brand, world.victim), keys.ledger_pk(world.victim_brand, world.victim),
                  keys.attempts_pk(world.victim_brand, world.victim), keys.brand_pk(world.victim_brand)]
    return [item.serialize() for pk in partitions for item in SiyuItem.query(pk)]


def test_every_root_field_is_known_to_the_matrix():
    fields = root_fields()
    assert {"me", "member", "registerMember", "redeemPoints", "loginWithWechat"} <= {f[1] for f in fields}
    assert all(role in ("member", "staff", "public") for *_, role in fields)


# The matrix selects every field of every type down to MAX_NESTING, far more than any client asks for: it runs
# with a validation budget that admits that (the budget has its own tests, tests/integration/test_trust_regressions).
EXHAUSTIVE_BUDGET = {f"SIYU_GRAPHQL_{who}MAX_{what}": "5000" for who in ("", "ANONYMOUS_")
                     for what in ("FIELDS", "SAME_KEY", "SELECTIONS")}


@pytest.fixture
def exhaustive(configure):
    configure(**EXHAUSTIVE_BUDGET)


@pytest.mark.parametrize("caller", list(EXPECTED))
def test_no_field_lets_a_caller_past_its_tenant(world, caller, exhaustive):
    samples = Samples(world)
    secrets = world.secrets()
    before = victim_state(world)
    problems: list[str] = []
    for operation, name, field, role in root_fields():
        document, variables = call(operation, name, field, samples)  # raises CannotBuild, naming the field
        status, body = call_graphql(document, variables, bearer(world, caller))
        answer = json.dumps(body, ensure_ascii=False)
        where = f"{operation} {name} ({role} field) as {caller}"
        if status != 200:
            problems.append(f"{where}: HTTP {status}")
        expected = EXPECTED[caller][role]
        codes = error_codes(body)
        asked_about_the_victim = world.victim in json.dumps(variables)
        if not expected and asked_about_the_victim and codes in (["NOT_FOUND"], ["FORBIDDEN"]):
            pass  # a field the caller may use, asked about someone else's id: "not yours" is the right answer
        elif codes != expected:
            problems.append(f"{where}: codes {codes}, expected {expected}: {answer[:400]}")
        if expected and (body.get("data") or {}).get(name) is not None:
            problems.append(f"{where}: refused, yet answered {answer[:400]}")
        for what, secret in secrets.items():
            if secret and secret in answer:
                problems.append(f"{where}: the victim's {what} is in the answer")
        if world.victim in answer and not asked_about_the_victim:
            problems.append(f"{where}: the victim's member id is in the answer")
        if re.search(rf'"balance": {VICTIM_POINTS}\b|"growth": {VICTIM_GROWTH}\b', answer):
            problems.append(f"{where}: the victim's balance or growth is in the answer")
    assert victim_state(world) == before, "something of the victim was written"
    assert not problems, "\n".join(problems)


def test_the_matrix_would_see_a_leak(world, exhaustive):
    """The checks above are not vacuous: the victim's own token, on the same calls, does return their data."""
    samples = Samples(world)
    _, name, field, _ = next(f for f in root_fields() if f[1] == "me")
    document, variables = call("query", name, field, samples)
    _, body = call_graphql(document, variables, token("member", world.victim, world.victim_brand))
    answer = json.dumps(body, ensure_ascii=False)
    secrets = world.secrets()
    assert secrets["masked phone"] in answer and secrets["referral code"] in answer and world.victim in answer
    assert f'"balance": {VICTIM_POINTS}' in answer and f'"growth": {VICTIM_GROWTH}' in answer


def test_a_field_whose_arguments_cannot_be_built_fails_loudly(world):
    from graphql import GraphQLArgument, GraphQLField, GraphQLString

    odd = GraphQLScalarType("Geohash")
    field = GraphQLField(GraphQLString, args={"near": GraphQLArgument(GraphQLNonNull(odd))})
    with pytest.raises(CannotBuild, match="Geohash"):
        call("query", "storesNear", field, Samples(world))
