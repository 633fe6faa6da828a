"""With every logger at DEBUG (Siyu's, botocore's, pynamodb's, strawberry's, mangum's...), representative flows
leave no raw phone number, openid, unionid, session key or token in any log line.

botocore at DEBUG logs whole DynamoDB request bodies: what Siyu writes is therefore what the logs may show, and it
holds only keyed hashes and masked phones.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

import pytest

from infra import runtime
from infra.wechat import LocalWechatClient
from rules.brands import BAIGUOYUAN_LADDER, BrandConfig
from rules.hookspecs import hookimpl
from rules.plugin_manager import PluginInfo, PluginRegistry
from tests.helpers import business_event, call_graphql, new_phone, order_paid, token

NOW = datetime.now(timezone.utc)
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+")
LOGGERS = ["", "siyu", "siyu.api", "siyu.engine", "siyu.events", "siyu.plugins", "siyu.eventbus", "botocore",
           "boto3", "urllib3", "pynamodb", "strawberry", "strawberry.execution", "mangum", "mangum.http",
           "mangum.lifespan", "graphql", "asyncio", "httpx", "httpcore"]


class ExplodingOnCheckIn:
    """A partner rule with a bug, to see what a failing plugin logs."""

    @hookimpl
    def siyu_plugin_info(self):
        return PluginInfo("exploding", "0.1.0", {"type": "object"}, order=15)

    @hookimpl
    def siyu_member_checked_in(self, event, context):
        raise ZeroDivisionError(f"bad arithmetic for {context.member.profile.member_id}")


@pytest.fixture
def everything_at_debug():
    handler = Capture()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # The full line as a log shipper would keep it: message, arguments, traceback.
        self.lines.append(self.format(record))


@pytest.fixture
def brand(store, plugins, monkeypatch):
    """A brand with the built-in rules and a plugin that crashes on check-ins, served by the runtime engine."""
    from rules.engine import Engine

    registry = PluginRegistry()
    for module in ("plugins.points.plugin", "plugins.tiers.plugin", "plugins.expiry.plugin"):
        registry.register(__import__(module, fromlist=["_"]))
    registry.register(ExplodingOnCheckIn())
    enabled = {name: plugins.validate_params(name, {}) for name in ("points", "tiers", "points_expiry")}
    brand_id = f"log{NOW.timestamp():.0f}"[-12:] + new_phone()[-4:]
    store.put_brand(BrandConfig(brand_id, "日志品牌", BAIGUOYUAN_LADDER, plugins=enabled))
    crashing = brand_id + "c"
    store.put_brand(BrandConfig(crashing, "坏插件品牌", BAIGUOYUAN_LADDER, plugins={**enabled, "exploding": {}}))
    monkeypatch.setattr(runtime, "_engine", Engine(runtime.store(), registry, runtime.bus()))
    yield brand_id, crashing
    monkeypatch.setattr(runtime, "_engine", None)


def test_representative_flows_log_no_phone_openid_unionid_session_key_or_token(brand, everything_at_debug):
    from events.handler import handler

    brand_id, crashing = brand
    phone = new_phone()
    staff = token("staff", "log-staff", brand_id)
    sent_tokens = [staff]
    local = LocalWechatClient()
    staff_ids = {"openid": "oSTAFF" + phone, "unionid": "uSTAFF" + phone}

    # Staff register a member with a phone (written with separators, as typed) and WeChat ids from their CRM.
    _, body = call_graphql("""mutation($input: RegisterMemberInput!) { registerMember(input: $input) {
        __typename ... on RegisterMemberSuccess { member { id phoneMasked } } } }""",
                           {"input": {"phone": f"+86 {phone[:3]}-{phone[3:7]}-{phone[7:]}", "channel": "store",
                                      **staff_ids}}, staff)
    registered = body["data"]["registerMember"]["member"]["id"]

    # A member signs in with WeChat (first time: registered; second time: found).
    logins = []
    for _ in range(2):
        _, body = call_graphql('mutation($b: String!) { loginWithWechat(brandId: $b, code: "logcode1") { '
                               '... on LoggedIn { token member { id } } } }', {"b": brand_id})
        logins.append(body["data"]["loginWithWechat"])
    member_token, member = logins[0]["token"], logins[0]["member"]["id"]
    sent_tokens.append(member_token)

    # An order through the engine, then a check-in and a redemption through GraphQL.
    assert handler(business_event("order.paid", order_paid(brand_id, member, 50000), time=NOW))["status"] == "applied"
    _, body = call_graphql("mutation { checkIn { __typename } }", token=member_token)
    assert body["data"]["checkIn"]["__typename"] == "CheckedIn"
    _, body = call_graphql('mutation { redeemPoints(input: {points: 100, idempotencyKey: "log-1"}) { __typename } }',
                           token=member_token)
    assert body["data"]["redeemPoints"]["__typename"] == "PointsChanged"

    # An event carrying a phone number where it should not, rejected and kept for staff.
    bad = order_paid(brand_id, member, 100) | {"amountFen": "lots", "note": f"call me on {phone}"}
    assert handler(business_event("order.paid", bad, time=NOW))["status"] == "rejected"

    # A plugin that crashes on a check-in, reached through GraphQL.
    crashing_member = _login(crashing, "logcode2")
    sent_tokens.append(crashing_member)
    _, body = call_graphql("mutation { checkIn { __typename } }", token=crashing_member)
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"

    # Bad tokens: tampered, expired, garbage.
    for bad_token in (member_token[:-3] + "abc", token("member", member, brand_id, now=NOW - timedelta(hours=5)),
                      "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig"):
        sent_tokens.append(bad_token)
        _, body = call_graphql("{ me { id } }", token=bad_token)
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    logged = "\n".join(everything_at_debug.lines)
    assert "TransactWriteItems" in logged and "siyu.engine" in logged  # botocore and Siyu did log at DEBUG
    assert registered and len(everything_at_debug.lines) > 50
    wechat = [local.answer(brand_id, "logcode1"), local.answer(crashing, "logcode2")]
    never = {
        "phone": phone, "phone as typed": f"{phone[3:7]}-{phone[7:]}",
        **{f"staff {k}": v for k, v in staff_ids.items()},
        **{f"{k} {i}": v for i, answer in enumerate(wechat) for k, v in answer.items()},
        **{f"token {i}": t for i, t in enumerate(sent_tokens)},
    }
    for what, value in never.items():
        assert value not in logged, f"the {what} is in the logs"
    assert not JWT.search(logged), JWT.search(logged).group(0)


def _login(brand_id: str, code: str) -> str:
    _, body = call_graphql('mutation($b: String!, $c: String!) { loginWithWechat(brandId: $b, code: $c) { '
                           '... on LoggedIn { token } } }', {"b": brand_id, "c": code})
    return body["data"]["loginWithWechat"]["token"]
