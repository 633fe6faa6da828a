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
