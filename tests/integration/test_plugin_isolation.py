"""One partner plugin cannot hurt another brand: what cannot load is left out and named, a brand that enabled a
plugin this deployment cannot run gets its events failed (not applied without it), and a partner plugin runs in a
sandbox that holds no credentials, no endpoint and no secret.

Partner packages here are installed for real: a module and its dist-info (with the `siyu.rules` entry point) in a
folder on sys.path, loaded through the subprocess sandbox as a deployment loads them.
"""

import json
import textwrap
from datetime import datetime, timezone

import pytest

from rules import plugin_manager as plugin_module
from rules.brand_settings import configure_brand
from rules.engine import Engine
from rules.errors import InvalidInput
from rules.family import families
from rules.plugin_manager import PluginRegistry
from rules.sandbox import SubprocessRunner
from tests.helpers import business_event, call_graphql, order_paid, register, token

T = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)

INFO = """
from rules.effects import AwardPoints, Note
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo
"""


@pytest.fixture
def site(tmp_path, monkeypatch):
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def runner(site):
    sandboxes = SubprocessRunner(paths=(str(site),))
    yield sandboxes
    sandboxes.close()


def install(site, entry: str, source: str) -> None:
    """A partner package as pip leaves it: the module, and its metadata with the entry point."""
    (site / f"{entry}.py").write_text(textwrap.dedent(INFO) + textwrap.dedent(source))
    meta = site / f"partner_{entry}-1.0.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: partner-{entry}\nVersion: 1.0\n")
    (meta / "entry_points.txt").write_text(f"[siyu.rules]\n{entry} = {entry}\n")


def registry_allowing(runner, *names) -> PluginRegistry:
    registry = PluginRegistry()
    for module in families().plugin_modules:
        registry.register(__import__(module, fromlist=["_"]))
    registry.load_partner_plugins(names, runner=runner)
    return registry


CLASHING = """
@hookimpl
def siyu_plugin_info():
    return PluginInfo(name="points", version="6.6.6")

@hookimpl
def siyu_order_paid(event, context):
    return [Note(rule="steal", message="I am the points plugin now")]
"""


def test_a_plugin_calling_itself_points_is_left_out_and_other_brands_orders_still_earn_points(
        site, runner, store, bus, rules_brand, monkeypatch):
    install(site, "clashing", CLASHING)
    registry = registry_allowing(runner, "clashing", "wecom_group_bonus")
    assert "already registered" in registry.problems["clashing"]
    assert registry.infos["points"].version != "6.6.6" and "wecom_group_bonus" in registry.infos

    member = register(store, rules_brand, T)
    summary = Engine(store, registry, bus).handle(business_event("order.paid", order_paid(rules_brand, member, 30000),
                                                                 time=T)).as_dict()
    assert summary["status"] == "applied" and summary["plugins"].get("points")
    assert store.load_member(rules_brand, member).points.balance == 300

    monkeypatch.setattr(plugin_module, "_registry", registry)
    _, body = call_graphql("{ plugins { name available problem } }", token=token("staff", "s1", rules_brand))
    listed = {p["name"]: p for p in body["data"]["plugins"]}
    assert listed["clashing"]["available"] is False and "already registered" in listed["clashing"]["problem"]
    assert listed["points"]["available"] and listed["wecom_group_bonus"]["available"]


def test_a_misspelt_hook_is_an_error_at_load_time_naming_the_plugin(site, runner):
    install(site, "typo_bonus", """
        @hookimpl
        def siyu_plugin_info():
            return PluginInfo(name="typo_bonus", version="1.0.0")

        @hookimpl
        def siyu_order_payed(event, context):
            return None
        """)
    registry = registry_allowing(runner, "typo_bonus")
    assert "typo_bonus" not in registry.infos
    assert "siyu_order_payed" in registry.problems["typo_bonus"]
    assert "typo_bonus" in registry.problems["typo_bonus"]


def test_a_plugin_that_fails_to_import_or_describe_itself_is_left_out_saying_why(site, runner):
    install(site, "broken_import", "import a_module_nobody_installed\n")
    install(site, "wrong_info", """
        @hookimpl
        def siyu_plugin_info():
            return {"name": "wrong_info"}
        """)
    registry = registry_allowing(runner, "broken_import", "wrong_info", "wecom_group_bonus")
    assert "a_module_nobody_installed" in registry.problems["broken_import"]
    assert "returned dict, not a rules.plugin_manager.PluginInfo" in registry.problems["wrong_info"]
    assert "wecom_group_bonus" in registry.infos


def test_a_brand_whose_enabled_plugin_is_not_allow_listed_gets_failed_events_naming_it(
        runner, store, bus, rules_brand):
    with_it = registry_allowing(runner, "wecom_group_bonus")
    configure_brand(store, with_it, rules_brand, now=T, plugin_settings=[("wecom_group_bonus", True, {})])
    member = register(store, rules_brand, T)
    without = registry_allowing(runner)  # the deployment dropped it from its allow-list

    event = business_event("order.paid", order_paid(rules_brand, member, 30000), time=T)
    summary = Engine(store, without, bus).handle(event).as_dict()
    assert summary["status"] == "failed" and summary["plugin"] == "wecom_group_bonus"
    assert "allow-list" in summary["reason"]
    assert store.load_member(rules_brand, member).points.balance == 0, "nothing of the event is applied"
    (problem,) = [p for p in store.problems(rules_brand, first=10, after=None).items if p.event_id == event["id"]]
    assert problem.status == "failed" and problem.plugin == "wecom_group_bonus" and "allow-list" in problem.reason


def test_a_brand_sees_which_of_its_enabled_plugins_this_deployment_cannot_run(runner, store, rules_brand):
    configure_brand(store, registry_allowing(runner, "wecom_group_bonus"), rules_brand, now=T,
                    plugin_settings=[("wecom_group_bonus", True, {})])
    # The stack's own registry, whose allow-list (SIYU_PARTNER_PLUGINS="" in the suite) leaves it out.
    _, body = call_graphql("{ brand { plugins { name available problem } } }", token=token("staff", "s1", rules_brand))
    listed = {p["name"]: p for p in body["data"]["brand"]["plugins"]}
    assert listed["points"] == {"name": "points", "available": True, "problem": None}
    assert listed["wecom_group_bonus"]["available"] is False
    assert "allow-list" in listed["wecom_group_bonus"]["problem"]


def test_configuring_an_installed_plugin_that_is_not_allow_listed_says_so(runner, store, rules_brand):
    with pytest.raises(InvalidInput) as refused:
        configure_brand(store, registry_allowing(runner), rules_brand, now=T,
                        plugin_settings=[("wecom_group_bonus", True, {})])
    assert "installed but not on this deployment's allow-list" in refused.value.message


def test_a_brand_can_turn_off_a_plugin_this_deployment_lost(runner, store, rules_brand):
    configure_brand(store, registry_allowing(runner, "wecom_group_bonus"), rules_brand, now=T,
                    plugin_settings=[("wecom_group_bonus", True, {})])
    saved = configure_brand(store, registry_allowing(runner), rules_brand, now=T,
                            plugin_settings=[("wecom_group_bonus", False, None)])
    assert "wecom_group_bonus" not in saved.plugins


SNOOP = """
import json, os

@hookimpl
def siyu_plugin_info():
    return PluginInfo(name="snoop", version="1.0.0")

@hookimpl
def siyu_member_engaged(event, context):
    found = {"env": sorted(k for k in os.environ if k.startswith(("AWS_ACCESS", "AWS_SECRET", "AWS_SESSION",
                                                                   "AWS_ENDPOINT", "JWT", "PHONE", "TABLE")))}
    try:
        import boto3
        found["tables"] = boto3.client("dynamodb", region_name="us-east-1").list_tables()["TableNames"]
    except Exception as error:
        found["tables"] = type(error).__name__
    try:
        from infra import runtime
        found["brand"] = repr(runtime.store().get_brand(event.brand_id))
    except Exception as error:
        found["brand"] = type(getattr(error, "cause", None) or error).__name__  # what pynamodb wrapped
    from infra.settings import settings
    found["secret"] = settings().jwt_secret
    found["endpoint"] = settings().dynamodb_endpoint
    return [Note(rule="snoop", message=json.dumps(found))]
"""


def test_a_partner_plugin_reading_the_table_or_the_secrets_from_its_sandbox_gets_nothing(
        site, runner, store, bus, rules_brand, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", "the-stack-secret-0123456789-0123456789")
    monkeypatch.setenv("PHONE_HASH_KEY", "the-stack-phone-key")
    install(site, "snoop", SNOOP)
    registry = registry_allowing(runner, "snoop")
    configure_brand(store, registry, rules_brand, now=T, plugin_settings=[("snoop", True, {})])
    member = register(store, rules_brand, T)

    detail = {"brandId": rules_brand, "memberId": member, "action": "share"}
    summary = Engine(store, registry, bus).handle(business_event("member.engaged", detail, time=T)).as_dict()
    (note,) = [e for e in summary["effects"] if e["plugin"] == "snoop"]
    found = json.loads(note["message"])
    assert found["env"] == [], "no credentials, endpoint or secret in the sandbox's environment"
    assert found["tables"] == "NoCredentialsError" and found["brand"] == "NoCredentialsError"
    assert found["endpoint"] is None, "the sandbox does not know where the table is"
    assert "the-stack-secret" not in found["secret"]


def test_a_partner_plugin_that_never_answers_fails_its_event_and_the_next_event_gets_a_fresh_sandbox(
        site, store, bus, rules_brand):
    install(site, "stuck", """
        import time

        @hookimpl
        def siyu_plugin_info():
            return PluginInfo(name="stuck", version="1.0.0")

        @hookimpl
        def siyu_member_engaged(event, context):
            if event.get("action") == "survey":
                time.sleep(30)
            print("chatty plugins print; the protocol does not care")
            return [Note(rule="stuck", message="answered")]
        """)
    runner = SubprocessRunner(paths=(str(site),), timeout=1.0)
    try:
        registry = registry_allowing(runner, "stuck")
        configure_brand(store, registry, rules_brand, now=T, plugin_settings=[("stuck", True, {})])
        member = register(store, rules_brand, T)
        engine = Engine(store, registry, bus)

        def engaged(action):
            detail = {"brandId": rules_brand, "memberId": member, "action": action}
            return engine.handle(business_event("member.engaged", detail, time=T)).as_dict()

        stuck = engaged("survey")
        assert stuck["status"] == "failed" and stuck["plugin"] == "stuck" and "no answer within 1 s" in stuck["reason"]
        assert engaged("share")["plugins"]["stuck"] == 1
    finally:
        runner.close()


def test_a_partner_plugin_cannot_return_an_effect_reserved_to_the_built_ins(site, runner, store, bus, rules_brand):
    install(site, "binder", """
        from plugins.referral.model import BindReferral

        @hookimpl
        def siyu_plugin_info():
            return PluginInfo(name="binder", version="1.0.0")

        @hookimpl
        def siyu_member_engaged(event, context):
            return [BindReferral(rule="steal", referrer_id="m-other", upline_id=None, code="X", invites_before=0)]
        """)
    registry = registry_allowing(runner, "binder")
    configure_brand(store, registry, rules_brand, now=T, plugin_settings=[("binder", True, {})])
    member = register(store, rules_brand, T)
    detail = {"brandId": rules_brand, "memberId": member, "action": "share"}
    summary = Engine(store, registry, bus).handle(business_event("member.engaged", detail, time=T)).as_dict()
    assert summary["status"] == "failed" and summary["plugin"] == "binder"
    assert "not an effect a partner plugin may return" in summary["reason"]


def test_a_partners_lambda_function_runs_its_own_plugin_and_no_other(monkeypatch):
    from rules import sandbox_host as sandbox

    monkeypatch.setenv("SIYU_SANDBOX_PLUGIN", "wecom_group_bonus")
    monkeypatch.setattr(sandbox, "_lambda_host", None)
    described = sandbox.lambda_handler({"op": "describe", "plugin": "wecom_group_bonus", "target": "wecom_group_bonus"})
    assert described["info"]["name"] == "wecom_group_bonus" and described["hooks"] == ["siyu_member_engaged"]
    refused = sandbox.lambda_handler({"op": "describe", "plugin": "member_day", "target": "member_day"})
    assert "runs 'wecom_group_bonus' only" in refused["error"]
