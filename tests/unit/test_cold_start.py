"""What Lambda loads at a cold start: the handler modules build nothing when imported; the first invocation does."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules_after_import(module: str) -> set[str]:
    script = f"import sys, json; import {module}; print(json.dumps(list(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout))


def test_loading_the_events_handler_imports_no_aws_sdk_store_or_rules_until_an_event_arrives():
    loaded = modules_after_import("events.handler")
    assert not {"botocore", "boto3", "pynamodb", "jsonschema", "infra.runtime", "rules.engine"} & loaded


def test_loading_the_api_handler_builds_no_schema_until_the_first_request():
    loaded = modules_after_import("api.handler")
    assert not {"strawberry", "graphql", "mangum", "botocore", "api.app", "api.schema", "jwt"} & loaded


def test_with_build_at_init_set_the_handlers_build_everything_when_loaded(monkeypatch):
    monkeypatch.setenv("SIYU_BUILD_AT_INIT", "1")
    monkeypatch.setenv("SIYU_STAGE", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert {"strawberry", "api.app"} <= modules_after_import("api.handler")
    assert {"pynamodb", "rules.engine", "infra.runtime"} <= modules_after_import("events.handler")


def modules_after(script: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", f"{script}; import sys, json; print(json.dumps(list(sys.modules)))"],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


ORDER_PAID = {"version": "0", "id": "e-1", "detail-type": "order.paid", "source": "siyu.brand.b1",
              "time": "2026-03-01T10:00:00+08:00",
              "detail": {"brandId": "b1", "memberId": "m-1", "orderId": "o-1", "amountFen": 25900, "channel": "pos"}}


def test_an_event_is_validated_and_the_engine_built_without_jsonschema_or_boto3(monkeypatch):
    monkeypatch.setenv("SIYU_STAGE", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    loaded = modules_after("from infra import runtime; runtime.engine(); from rules.events import parse, Parsed; "
                           f"assert isinstance(parse({ORDER_PAID!r}), Parsed)")
    assert "rules.engine" in loaded and "pynamodb" in loaded
    # jsonschema only validates a brand's plugin parameters, boto3 (beside botocore) only reads the change stream.
    assert not {"jsonschema", "referencing", "boto3", "jwt"} & loaded


def test_the_api_is_built_without_pyjwt_until_a_token_is_checked(monkeypatch):
    monkeypatch.setenv("SIYU_STAGE", "local")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert not {"jwt", "cryptography", "jsonschema"} & modules_after("import api.app")
    assert "jwt" in modules_after("import api.app; from api.auth import verify_token, AuthError\n"
                                  "try:\n    verify_token('x.y.z', secret='s' * 32, issuer='siyu-local')\n"
                                  "except AuthError:\n    pass")
