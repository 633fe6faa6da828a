"""Which partner plugins the stack the `siyu` CLI talks to loads, so the CLI loads the same ones.

Without this the CLI would run events with whatever `SIYU_PARTNER_PLUGINS` its own shell happens to hold, and a
brand's partner plugin would be missing from (or added to) what the stack itself decides. `make dev` records its
allow-list next to the embedded DynamoDB's address (`.siyu/local-stack.json`); a deployed stack's is the events
function's environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Mapping

RECORD = Path(".siyu") / "local-stack.json"
# What the CLI copies from the stack: the allow-list, and how partner plugins are run there.
CARRIED = ("SIYU_PARTNER_PLUGINS", "SIYU_PARTNER_RUNNER", "SIYU_PARTNER_FUNCTION_PREFIX")


def record_local(dynamodb_url: str, env: Mapping[str, str] | None = None, path: Path = RECORD) -> None:
    env = os.environ if env is None else env
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"dynamodbUrl": dynamodb_url, "partnerPlugins": env.get("SIYU_PARTNER_PLUGINS", "")}))


def local(dynamodb_url: str, path: Path = RECORD) -> dict[str, str]:
    """The allow-list of the local stack at `dynamodb_url`, or nothing if no stack recorded one there."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if data.get("dynamodbUrl") != dynamodb_url:
        return {}
    return {"SIYU_PARTNER_PLUGINS": str(data.get("partnerPlugins", ""))}


def deployed(stage: str, client=None) -> dict[str, str]:
    """The events function's allow-list and partner runner, read from its configuration."""
    if client is None:
        import boto3

        client = boto3.client("lambda")
    variables = client.get_function_configuration(FunctionName=f"siyu-{stage}-events")["Environment"]["Variables"]
    return {name: variables[name] for name in CARRIED if name in variables}
