"""The engine's shortcuts for CPU (issue 15) answer exactly what the long way answers, and none can serve a stale
answer: a plugin's hook calls against pluggy's own, a view copy against `dataclasses.replace`, time keys against
strftime, exact rates and the hook table against what they are made from."""

from __future__ import annotations

import logging
import types
import warnings
from dataclasses import fields, replace
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from types import MappingProxyType

import pluggy
import pytest

from rules import effects as fx
from rules import engine, events, family, ids
from rules.context import MemberView
from rules.hookspecs import hookimpl
from rules.ledger import Lot, PointsState
from rules.plugin_manager import PluginInfo, PluginRegistry
from rules.refunds import exact

ORDER = {"event": "the event", "context": "the context"}


def plugin(name: str, **hooks) -> types.ModuleType:
    """A plugin module named `name` implementing `hooks` (name -> function), as a partner's module would."""
    module = types.ModuleType(f"fast_path_{name}")
    module.siyu_plugin_info = hookimpl(lambda: PluginInfo(name, "1.0"))
    for hook, function in hooks.items():
        setattr(module, hook, hookimpl(function))
    return module


def pluggy_answer(registry: PluginRegistry, name: str, hook: str, **kwargs):
    """What pluggy itself answers for this plugin's implementations (the path `call` skips)."""
    others = [p for n, p in registry.pm.list_name_plugin() if n != name]
    return registry.pm.subset_hook_caller(hook, remove_plugins=others)(**kwargs)


def test_a_plugin_call_answers_as_pluggy_does_for_effects_none_and_a_plugin_without_the_hook():
    registry = PluginRegistry()
    calls = []

    def paid(event, context):
        calls.append((event, context))
        return ["effect"]

    registry.register(plugin("gives", siyu_order_paid=paid))
    registry.register(plugin("silent", siyu_order_paid=lambda event, context: None))
    registry.register(plugin("elsewhere", siyu_member_checked_in=lambda event, context: ["x"]))
    for name in ("gives", "silent", "elsewhere"):
        assert registry.call(name, "siyu_order_paid", **ORDER) == pluggy_answer(registry, name, "siyu_order_paid",
                                                                                 **ORDER)
    assert registry.call("gives", "siyu_order_paid", **ORDER) == [["effect"]]
    assert calls[-1] == ("the event", "the context")  # the arguments the plugin names, as pluggy passes them
    assert registry.call("elsewhere", "siyu_order_paid", **ORDER) == []


def test_a_failing_plugin_raises_its_own_error_either_way():
    registry = PluginRegistry()

    def broken(event, context):
        raise LookupError("no such tier")

    registry.register(plugin("broken", siyu_order_paid=broken))
    with pytest.raises(LookupError, match="no such tier"):
        registry.call("broken", "siyu_order_paid", **ORDER)
    with pytest.raises(LookupError, match="no such tier"):
        pluggy_answer(registry, "broken", "siyu_order_paid", **ORDER)


def test_a_missing_argument_gets_pluggys_own_warning_and_error():
    registry = PluginRegistry()
    registry.register(plugin("needy", siyu_order_paid=lambda event, context: [1]))
    with warnings.catch_warnings(record=True) as seen, pytest.raises(pluggy.HookCallError):
        warnings.simplefilter("always")
        registry.call("needy", "siyu_order_paid", event="only the event")
    assert any("cannot be found in this hook call" in str(w.message) for w in seen)


def test_a_plugin_wrapping_its_own_hook_goes_through_pluggy():
    registry = PluginRegistry()
    module = plugin("wrapped", siyu_order_paid=lambda event, context: ["inner"])

    @hookimpl(wrapper=True, specname="siyu_order_paid")
    def wrap(event, context):
        answer = yield
        return [*answer, ["wrapped"]]

    module.wrap = wrap
    registry.register(module)
    assert registry.call("wrapped", "siyu_order_paid", **ORDER) == [["inner"], ["wrapped"]]
    assert registry.call("wrapped", "siyu_order_paid", **ORDER) == pluggy_answer(registry, "wrapped",
                                                                                 "siyu_order_paid", **ORDER)


def test_traced_hooks_are_logged_for_every_plugin_called_even_one_without_the_hook(monkeypatch, caplog):
    monkeypatch.setenv("SIYU_TRACE_HOOKS", "1")
    registry = PluginRegistry()
    registry.register(plugin("gives", siyu_order_paid=lambda event, context: ["effect"]))
    registry.register(plugin("elsewhere", siyu_member_checked_in=lambda event, context: ["x"]))
    with caplog.at_level(logging.INFO, logger="siyu.plugins"):
        assert registry.call("gives", "siyu_order_paid", **ORDER) == [["effect"]]
        assert registry.call("elsewhere", "siyu_order_paid", **ORDER) == []
    traced = [r.getMessage() for r in caplog.records]
    assert "hook siyu_order_paid -> ['gives']" in traced
    assert "hook siyu_order_paid -> []" in traced
    assert "hook siyu_order_paid returned [['effect']]" in traced


def test_a_plugin_replaced_under_its_name_is_called_as_it_is_now_never_as_it_was():
    registry = PluginRegistry()
    registry.register(plugin("partner", siyu_member_checked_in=lambda event, context: ["checked in"]))
    assert registry.call("partner", "siyu_order_paid", **ORDER) == []
    registry.pm.unregister(name="partner")
    del registry.infos["partner"]
    registry.register(plugin("partner", siyu_order_paid=lambda event, context: ["now it pays"]))
    assert registry.call("partner", "siyu_order_paid", **ORDER) == [["now it pays"]]
    assert registry.call("partner", "siyu_order_paid", **ORDER) == pluggy_answer(registry, "partner",
                                                                                 "siyu_order_paid", **ORDER)
    registry.pm.unregister(name="partner")
    assert registry.call("partner", "siyu_order_paid", **ORDER) == []


def test_every_built_in_and_a_partner_plugin_answer_each_business_event_as_through_pluggy():
    from plugins.coupons.plugin import BAIGUOYUAN_TEMPLATES
    from rules import testing
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.sandbox import remote_plugin
    from rules.sandbox_host import InProcessRunner

    registry = PluginRegistry()
    for module in family.families().plugin_modules:
        registry.register(__import__(module, fromlist=["_"]), schema_checked=True)
    partner = plugin("partner_pays", siyu_order_paid=lambda event, context: [f"{event.get('amountFen')} fen"])
    registry.register(remote_plugin(InProcessRunner({"partner_pays": partner}), "partner_pays", "partner_pays"))
    given = {"coupons": {"templates": BAIGUOYUAN_TEMPLATES}}
    brand = BrandConfig("test-brand", "测试品牌", BAIGUOYUAN_LADDER,
                        plugins={n: registry.validate_params(n, given.get(n, {})) for n in registry.infos})
    state = testing.member(points=500, growth=600)
    compared = 0
    for detail_type, hook in events.hooks().items():
        event = events.BusinessEvent(f"e-{detail_type}", detail_type, "siyu.shop", testing.DEFAULT_TIME,
                                     brand.brand_id, MappingProxyType({
                                         "brandId": brand.brand_id, "memberId": state.profile.member_id,
                                         "orderId": "o-1", "amountFen": 12_900, "channel": "miniprogram",
                                         "action": "share", "plan": "year",
                                         "validUntil": "2027-01-01T00:00:00+08:00"}))
        for name in registry.infos:
            answers = []
            for call in (registry.call, lambda n, h, **kw: pluggy_answer(registry, n, h, **kw)):
                context = engine.RuleContext(brand, MappingProxyType(dict(brand.plugins[name])), event.time,
                                             _view(state), MappingProxyType({}), ())
                try:
                    answers.append([list(r) for r in call(name, hook, event=event, context=context)])
                except Exception as error:  # noqa: BLE001 - the same failure either way
                    answers.append(repr(error))
            assert answers[0] == answers[1], (name, hook)
            compared += bool(answers[0])
    assert compared >= 5  # the points, tiers, coupons, referral and partner plugins answered order.paid at least


def _view(state):
    from rules import consent
    from rules.context import member_view

    return member_view(state.profile, state.points, state.markers, state.holdings, consent.granted(state.consents),
                       state.totals, state.daily)


def _a_view() -> MemberView:
    lot = Lot("l1", 100, 100, datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2027, 1, 1, tzinfo=timezone.utc))
    return MemberView(member_id="m1", channel="h5", registered_at=datetime(2025, 5, 1, tzinfo=timezone.utc),
                      tier_code="YIN", tier_valid_until=None, growth=700, points=PointsState(100, (lot,)),
                      markers={"points:order:o1": {"points": 3}}, totals=MappingProxyType({"t": 1}))


@pytest.mark.parametrize("changes", [
    {"growth": 900}, {"tier_code": "JIN", "tier_valid_until": datetime(2027, 6, 1, tzinfo=timezone.utc)},
    {"markers": {"a": {}}}, {"points": PointsState(0)}, {"paid_until": None}, {},
    {name.name: f"changed {name.name}" for name in fields(MemberView)},
])
def test_a_projected_view_is_the_view_replace_makes(changes):
    view = _a_view()
    ours, theirs = engine._with(view, **changes), replace(view, **changes)
    assert ours == theirs and vars(ours) == vars(theirs) and type(ours) is MemberView
    assert ours is not view and vars(view) == vars(_a_view())  # the view it came from is untouched


def test_a_view_copy_leaves_anything_unusual_to_replace():
    class Wider(MemberView):
        pass

    view = _a_view()
    wider = Wider(**{f.name: getattr(view, f.name) for f in fields(MemberView)})
    assert type(engine._with(wider, growth=1)) is Wider
    with pytest.raises(TypeError):
        engine._with(view, not_a_field=1)
    object.__setattr__(view, "cached_extra", "stale")  # more than its fields: not copied blindly
    assert not hasattr(engine._with(view, growth=1), "cached_extra")


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 25, 22, 15, tzinfo=timezone.utc), datetime(2026, 3, 1, 0, 0, 0, 1, tzinfo=timezone.utc),
    datetime(2026, 3, 1, 7, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=8))),
    datetime(1000, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))), datetime(9999, 12, 31, 23, 59, 59, 999_999,
                                                                            tzinfo=timezone.utc),
    datetime(999, 12, 31, 23, tzinfo=timezone.utc), datetime(1, 1, 1, tzinfo=timezone.utc),
])
def test_time_keys_are_the_text_strftime_writes(at):
    assert ids.time_key(at) == at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")


@pytest.mark.parametrize("rate", [1, 1.0, 1.15, 0.7, 2, 10**20, 1e-7, 3.0000000000000004, -0.0])
def test_an_exact_rate_is_the_decimal_written_whether_or_not_it_was_asked_for_before(rate):
    first, again = exact(rate), exact(rate)
    assert first == again == Fraction(str(rate)) and str(first) == str(Fraction(str(rate)))


def test_a_rate_of_one_and_of_one_point_nought_are_told_apart_as_their_text_is():
    assert exact(1) == exact(1.0) == 1
    assert exact(0.1) == Fraction(1, 10) and exact(0.1) != Fraction(0.1)
    with pytest.raises(ValueError):
        exact(float("nan"))
    with pytest.raises(ValueError):  # equal to 1, asked for before, and still not a rate, as Fraction("True") says
        exact(True)


def test_the_hook_table_follows_the_families_in_use():
    before = events.hooks()
    mine = events.hooks()
    mine["made.up"] = "siyu_made_up"  # a caller changing its copy changes no one else's
    assert "made.up" not in events.hooks() and events.hooks() == before
    loaded = family.families()
    extra = types.SimpleNamespace(**vars(loaded))
    extra.events = {**loaded.events, "stamp.given": types.SimpleNamespace(hook="siyu_stamp_given")}
    family.use(extra)
    try:
        assert events.hooks()["stamp.given"] == "siyu_stamp_given"
    finally:
        family.use(loaded)
    assert events.hooks() == before


@pytest.mark.parametrize("data, flat", [
    ({"amountFen": 100, "points": 3, "taken": 0, "at": "2026-03-01T00:00:00+08:00"}, True),
    (MappingProxyType({"a": None, "b": 1.5, "c": True}), True), ({}, True),
    ({"nested": {"a": 1}}, False), ({1: "int key"}, False), ({"when": date(2026, 3, 1)}, False),
    ({"nan": float("nan")}, True), ([("a", 1)], False), ("text", False),
])
def test_marker_data_is_taken_as_json_without_trying_only_when_json_surely_takes_it(data, flat):
    import json

    assert engine._flat_json(data) is flat
    if flat:
        json.dumps(dict(data))  # never raises for what is taken without trying


def test_points_and_growth_scaled_down_by_whole_rates_are_what_fractions_give():
    from functools import reduce

    from rules.refunds import scaled_down

    rates = [exact(r) for r in (1, 2, 10, 0.5, 1.15, 3, 0.7, 100, 0)]
    for amount in (0, 1, 99, 100, 12_345, 10**11, -250, 100.0, 12_345.0, 1e15 + 1.0):
        for first in rates:
            for second in rates:
                for chosen in ((first,), (first, second)):
                    expected = int(reduce(lambda value, rate: value * rate, chosen, amount) // 100)
                    answer = scaled_down(amount, *chosen)
                    assert answer == expected and type(answer) is int, (amount, chosen)


def _effect_classes():
    import importlib

    from rules import effects as fx

    found = {c for c in vars(fx).values() if isinstance(c, type) and issubclass(c, fx.Effect)}
    for module in family.families().plugin_modules:
        effects_module = module.rsplit(".", 1)[0] + ".effects"
        try:
            found |= {c for c in vars(importlib.import_module(effects_module)).values()
                      if isinstance(c, type) and issubclass(c, fx.Effect)}
        except ModuleNotFoundError:
            pass
    return sorted(found, key=lambda c: (c.__module__, c.__qualname__))


def test_which_check_and_projection_an_effect_gets_is_the_first_isinstance_that_holds():
    classes = _effect_classes()
    assert len(classes) > 15
    for chain in (engine._CHECKED, engine._PROJECTED):
        for kind in classes:
            effect = object.__new__(kind)  # only its type matters here
            expected = next((c for c in chain.classes if isinstance(effect, c)), None)
            assert chain(effect) is expected and chain(effect) is expected, (kind, chain.classes)


def test_an_object_claiming_another_class_is_asked_the_long_way_every_time():
    from rules import effects as fx

    class Posing:
        @property
        def __class__(self):
            return fx.AwardPoints

    chain = engine._FirstOf(fx.Once, fx.AwardPoints)
    assert isinstance(Posing(), fx.AwardPoints)
    assert chain(Posing()) is fx.AwardPoints and Posing not in chain.known
    assert chain(object()) is None and chain.known[object] is None


def test_a_plugin_blocked_or_traced_later_is_called_as_pluggy_calls_it(caplog):
    registry = PluginRegistry()
    registry.register(plugin("gives", siyu_order_paid=lambda event, context: ["effect"]))
    assert registry.call("gives", "siyu_order_paid", **ORDER) == [["effect"]]
    undo = registry.pm.enable_tracing()  # tracing turned on after the first call: pluggy's path from now on
    registry.pm.trace.root.setwriter(lambda line: caplog.records.append(logging.makeLogRecord({"msg": line})))
    assert registry.call("gives", "siyu_order_paid", **ORDER) == [["effect"]]
    assert any("siyu_order_paid" in r.getMessage() for r in caplog.records)
    undo()
    registry.pm.set_blocked("gives")
    assert registry.call("gives", "siyu_order_paid", **ORDER) == [] == pluggy_answer(registry, "gives",
                                                                                     "siyu_order_paid", **ORDER)


def test_the_engine_skips_only_plugins_that_would_answer_nothing_unseen(monkeypatch):
    registry = PluginRegistry()
    registry.register(plugin("gives", siyu_order_paid=lambda event, context: ["effect"]))
    registry.register(plugin("elsewhere", siyu_member_checked_in=lambda event, context: ["x"]))
    assert registry.answers("gives", "siyu_order_paid") and not registry.answers("elsewhere", "siyu_order_paid")
    monkeypatch.setenv("SIYU_TRACE_HOOKS", "1")
    traced = PluginRegistry()
    traced.register(plugin("elsewhere", siyu_member_checked_in=lambda event, context: ["x"]))
    assert traced.answers("elsewhere", "siyu_order_paid")  # its empty call is logged: it is made


def test_a_brand_that_changes_its_rate_or_its_plugins_is_answered_by_its_new_configuration():
    """Nothing the engine keeps between events (plans, hook table, exact rates, effect kinds) answers for a brand's
    old configuration, another event type, or a plugin the brand no longer enables."""
    from rules import testing
    from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
    from rules.engine import Engine
    from rules.events import hooks

    registry = PluginRegistry()
    for module in family.families().plugin_modules:
        registry.register(__import__(module, fromlist=["_"]), schema_checked=True)
    partner = plugin("partner_bonus", siyu_order_paid=lambda event, context: [
        engine.fx.AwardPoints(points=7, expires_at=context.now + timedelta(days=30), reason="partner bonus",
                              rule="bonus")])
    registry.register(partner)
    engine_ = Engine(store=None, plugins=registry)
    state = testing.member()

    def points_for(enabled: dict, detail_type: str = "order.paid", amount: int = 10_000) -> dict:
        brand = BrandConfig("test-brand", "测试品牌", BAIGUOYUAN_LADDER,
                            plugins={n: registry.validate_params(n, p) for n, p in enabled.items()})
        event = events.parse({"id": f"e-{len(enabled)}-{amount}", "source": "siyu.shop", "detail-type": detail_type,
                              "time": testing.DEFAULT_TIME.isoformat(), "detail": {
                                  "brandId": brand.brand_id, "memberId": state.profile.member_id,
                                  "orderId": "o-1", "amountFen": amount, "channel": "miniprogram"}}).event
        evaluation = engine_.evaluate(event.event_id, event.time, brand, state, hooks()[detail_type],
                                      {"event": event})
        awarded: dict[str, int] = {}
        for d in evaluation.decisions:
            if isinstance(d.effect, engine.fx.AwardPoints):
                awarded[d.plugin] = awarded.get(d.plugin, 0) + d.effect.points
        return awarded

    assert points_for({"points": {"pointsPerYuan": 1}}) == {"points": 100}
    assert points_for({"points": {"pointsPerYuan": 2}}) == {"points": 200}  # the brand's new rate, at once
    assert points_for({"points": {"pointsPerYuan": 1.5}}) == {"points": 150}
    assert points_for({"points": {"pointsPerYuan": 1}, "partner_bonus": {}}) == {"points": 100, "partner_bonus": 7}
    assert points_for({"points": {"pointsPerYuan": 1}}) == {"points": 100}  # the partner plugin disabled again
    assert points_for({"points": {"pointsPerYuan": 1}, "partner_bonus": {}}, "order.refunded") == {}


@pytest.mark.parametrize("detail_type", sorted(events.detail_schemas()))
def test_parsing_answers_as_the_error_list_did_and_a_rejection_keeps_the_fingerprint_it_always_had(detail_type):
    """`parse` asks the schema a yes/no first and fingerprints only what it rejects: every detail, valid or broken
    one way or another, still gets the verdict (and reason, and field) the first error of the sorted list gave."""
    from tests.unit.test_schema_check import ODD_VALUES, sample, variants

    schema = {"type": "object", **events.detail_schemas()[detail_type]}
    checked = 0
    for detail in [*variants(sample(schema), schema), *ODD_VALUES]:
        envelope = {"id": "e-1", "source": "siyu.shop", "detail-type": detail_type,
                    "time": "2026-03-01T10:00:00+08:00", "detail": detail}
        parsed = events.parse(envelope)
        if not isinstance(detail, dict):
            assert isinstance(parsed, events.Rejected) and parsed.field == "detail"
            continue
        errors = sorted(events._validator(detail_type).iter_errors(detail), key=lambda e: list(e.path))
        if events._non_finite(detail, "detail") is None and not errors:
            assert isinstance(parsed, events.Parsed), detail
        elif events._non_finite(detail, "detail") is None:
            assert isinstance(parsed, events.Rejected), detail
            assert (parsed.reason, parsed.field) == (events._describe(errors[0]), events._field(errors[0]))
        if isinstance(parsed, events.Rejected):
            assert parsed.fingerprint == events.fingerprint(detail_type, detail)
        checked += 1
    assert checked > 50


@pytest.mark.parametrize("detail", [
    {"b": 1, "a": [1, {"y": None, "x": 2.5}], "c": "雪"}, {}, {"n": float("nan")}, {1: "int key", "1": "text"},
    {"t": (1, 2), "m": MappingProxyType({"k": "v"})},
])
def test_a_fingerprint_of_the_read_only_detail_is_the_fingerprint_of_the_detail_as_sent(detail):
    import hashlib
    import json

    def reference(value):  # `_plain` before its shortcut for the types a parsed detail holds
        if isinstance(value, (dict, MappingProxyType)):
            return {str(k): reference(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [reference(v) for v in value]
        return value

    body = json.dumps({"detail-type": "order.paid", "detail": reference(detail)}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=True, default=str, allow_nan=True)
    expected = hashlib.sha256(body.encode("utf-8", "backslashreplace")).hexdigest()[:32]
    assert events.fingerprint("order.paid", detail) == expected
    if all(isinstance(k, str) for k in detail):
        assert events.fingerprint("order.paid", events._frozen(detail)) == expected


def _circular():
    loop: dict = {"a": 1}
    loop["self"] = loop
    return loop


ENCODED = [
    {"id": "e1", "detail-type": "order.paid", "detail": {"brandId": "b", "amountFen": 9900, "items": [{"sku": "s"}]}},
    {"name": "百果园 会员", "emoji": "\U0001f600", "lone": "\ud800", "nan": float("nan"), "inf": float("-inf")},
    {"when": datetime(2026, 3, 1, tzinfo=timezone.utc), "day": date(2026, 3, 1), 3: "int key", None: 1.5, True: []},
    {"b": 1, "a": {"d": [1, 2.5, None, False], "c": "x"}},
    ["a", ("tuple", 1)],
    "just text",
    {"mixed": {1: "a", "b": 2}},  # sort_keys cannot order 1 and "b": both ways raise TypeError
    _circular(),  # both ways raise ValueError
]


@pytest.mark.parametrize("value", ENCODED)
def test_the_event_text_and_its_fingerprint_are_written_as_json_dumps_writes_them(value):
    import json

    def both(ours, theirs):
        try:
            expected = theirs()
        except Exception as error:  # noqa: BLE001 - the same error type, then
            with pytest.raises(type(error)):
                ours()
        else:
            assert ours() == expected

    both(lambda: events._AS_SENT.encode(value), lambda: json.dumps(value, ensure_ascii=False, default=str))
    both(lambda: events._CANONICAL.encode(value),
         lambda: json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str,
                            allow_nan=True))


def test_an_events_hook_is_the_one_the_hook_table_names():
    table = events.hooks()
    for detail_type, hook in table.items():
        assert events.hook_for(detail_type) == hook
    with pytest.raises(KeyError):
        events.hook_for("no.such_event")


class _Text(str):
    pass


DETAILS = [
    {"brandId": "b", "amountFen": 9900, "rate": 1.5, "paid": True, "note": None},
    {"items": [{"sku": "s1", "amountFen": 100}, {"sku": "s2", "tags": ["a", {"b": 1.0}]}], "x": {"y": {"z": 1}}},
    {"odd": _Text("a str subclass"), 3: "int key", "t": (1, [2])},
    MappingProxyType({"inner": MappingProxyType({"a": 1}), "list": [1, 2]}),
]


def _old_frozen(value):
    if isinstance(value, dict):
        return MappingProxyType({k: _old_frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_old_frozen(v) for v in value)
    return value


def _old_plain(value):
    kind = type(value)
    if kind in events._SCALARS:
        return value
    if kind in events._MAPPINGS:
        return {str(k): _old_plain(v) for k, v in value.items()}
    if isinstance(value, events.Mapping):
        return {str(k): _old_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_old_plain(v) for v in value]
    return value


def _same(a, b):
    """Equal, and of the same types all the way down (a tuple is not a list, a read-only view not a dict)."""
    assert type(a) is type(b)
    if isinstance(a, (dict, MappingProxyType)):
        assert list(a.keys()) == list(b.keys())
        assert [type(k) for k in a] == [type(k) for k in b]
        for key in a:
            _same(a[key], b[key])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b or (a != a and b != b)


@pytest.mark.parametrize("detail", DETAILS)
def test_a_detail_is_frozen_and_made_plain_as_the_recursive_walk_did(detail):
    _same(events._frozen(detail), _old_frozen(detail))
    _same(events._plain(detail), _old_plain(detail))


def test_plugins_are_ordered_by_their_order_then_their_name():
    registry = PluginRegistry()
    for name, order in (("b", 20), ("a", 20), ("c", 10), ("d", 30)):
        def info(name=name, order=order):
            return PluginInfo(name, "1.0", order=order)
        module = types.ModuleType(f"ordered_{name}")
        module.siyu_plugin_info = hookimpl(info)
        registry.register(module)
    names = ["d", "a", "b", "c", "missing"]
    expected = sorted([registry.infos[n] for n in names if n in registry.infos],
                      key=lambda info: (info.order, info.name))
    assert registry.ordered(names) == expected
    assert [info.name for info in registry.ordered(names)] == ["c", "a", "b", "d"]


def _old_describe(effect):
    from rules.effects import _jsonable

    body = {"effect": effect.kind, "rule": effect.rule, "inputs": _jsonable(effect.inputs)}
    for name, value in vars(effect).items():
        if name not in ("rule", "inputs"):
            body[name] = value if type(value) in {str, int, float, bool, type(None)} else _jsonable(value)
    return body


NOW_ = datetime(2026, 3, 1, 8, tzinfo=timezone.utc)
DESCRIBED = [
    fx.AwardPoints(points=12, expires_at=NOW_, reason="order o1", rule="r", inputs={"orderId": "o1", "m": "1.5"},
                   source="points:order:o1"),
    fx.Once(key="points:order:o1", rule="r", inputs={"orderId": "o1"}, data={"points": 1}, due_at=NOW_),
    fx.Emit(detail_type="tier.changed", rule="r", inputs=MappingProxyType({"from": "PU", 2: date(2026, 1, 1)}),
            detail={"from": "PU", "to": "YIN"}),
    fx.AddGrowth(growth=5, rule="r", inputs={"nested": {"when": NOW_}, "list": [1, NOW_], "set": frozenset({1})}),
    fx.SetTier(code="YIN", valid_until=None, rule="r"),
    fx.Note(message="why not", rule="r", inputs={_Text("k"): _Text("v")}),
]


@pytest.mark.parametrize("effect", DESCRIBED)
def test_an_effect_is_described_as_before_key_for_key(effect):
    ours = fx.describe(effect)
    theirs = _old_describe(effect)
    assert ours == theirs and list(ours) == list(theirs)
    _same(ours, theirs)
    decision = engine.Decision("points", "1.0", effect, suppressed="no consent")
    described = decision.describe()
    assert list(described) == ["plugin", "version", *theirs, "suppressed"]
    assert described == {"plugin": "points", "version": "1.0", **theirs, "suppressed": "no consent"}
