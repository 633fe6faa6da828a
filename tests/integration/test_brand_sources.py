"""Publishers bound to brands: brand A's systems (source `siyu.brand.A[.system]`) cannot publish brand B's events."""

from datetime import datetime, timezone

import pytest

from events.handler import handler
from rules.engine import Engine
from rules.events import BusinessEvent
from rules.sources import source_problem
from tests.helpers import business_event, order_paid, register

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)


def paid(brand, member, source):
    event = business_event("order.paid", order_paid(brand, member, 30000), time=T)
    event["source"] = source
    return event


def test_brand_a_pos_cannot_pay_an_order_for_brand_b_member_and_the_attempt_is_kept(store, plugins, bus, rules_brand):
    engine = Engine(store, plugins, bus, require_brand_source=True)
    member = register(store, rules_brand, T)
    forged = paid(rules_brand, member, "siyu.brand.other-brand.pos")

    summary = engine.handle(forged).as_dict()
    assert summary["status"] == "rejected" and summary["field"] == "source"
    assert "may not publish events of brand" in summary["reason"]
    assert store.load_member(rules_brand, member).points.balance == 0
    (kept,) = [p for p in store.problems(rules_brand, first=10, after=None).items if p.event_id == forged["id"]]
    assert kept.status == "rejected" and kept.field == "source" and "siyu.brand.other-brand.pos" in kept.raw


def test_the_brands_own_pos_and_its_bare_brand_source_are_applied(store, plugins, bus, rules_brand):
    engine = Engine(store, plugins, bus, require_brand_source=True)
    member = register(store, rules_brand, T)
    assert engine.handle(paid(rules_brand, member, f"siyu.brand.{rules_brand}.pos")).status == "applied"
    assert engine.handle(paid(rules_brand, member, f"siyu.brand.{rules_brand}")).status == "applied"


def test_with_the_check_off_local_tools_keep_their_own_sources(store, plugins, bus, rules_brand):
    member = register(store, rules_brand, T)
    assert Engine(store, plugins, bus).handle(paid(rules_brand, member, "siyu.cli")).status == "applied"


@pytest.mark.parametrize("source, brand, allowed", [
    ("siyu.brand.acme", "acme", True),
    ("siyu.brand.acme.pos", "acme", True),
    ("siyu.brand.acme.pos.extra", "acme", False),  # a system's name has no dot
    ("siyu.brand.acme", "acme2", False),
    ("siyu.brand.acme2", "acme", False),
    ("siyu.pos", "acme", False),
    ("siyu.brand.a.b", "a.b", False),  # brand "a"'s system "b", or brand "a.b"? Never bound.
])
def test_which_sources_may_publish_which_brands_events(source, brand, allowed):
    event = BusinessEvent("e1", "order.paid", source, T, brand, {})
    assert (source_problem(event) is None) is allowed


def test_the_check_is_on_in_every_stage_but_local_unless_switched(configure, rules_brand, store):
    assert configure().require_brand_source is False
    assert configure(SIYU_STAGE="dev", SIYU_FUNCTION="events").require_brand_source is True
    assert configure(SIYU_REQUIRE_BRAND_SOURCE="off").require_brand_source is False
    configure(SIYU_REQUIRE_BRAND_SOURCE="on")
    member = register(store, rules_brand, T)
    assert handler(paid(rules_brand, member, "siyu.cli"))["status"] == "rejected"


def test_the_events_function_needs_no_jwt_secret_and_can_sign_nothing(configure):
    from api.auth import AuthError, Principal, issue_token, verify_token

    config = configure(SIYU_STAGE="dev", SIYU_FUNCTION="events")
    assert config.jwt_secret == "" and config.phone_hash_key == ""
    with pytest.raises(RuntimeError):
        issue_token(Principal("staff", "s", "b"), secret=config.jwt_secret, issuer="x", now=T, ttl=T - T)
    with pytest.raises(AuthError):
        verify_token("a.b.c", secret=config.jwt_secret, issuer="x")
    with pytest.raises(RuntimeError):
        configure(SIYU_STAGE="dev", SIYU_FUNCTION="graphql")
