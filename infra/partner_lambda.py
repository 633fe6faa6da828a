"""Partner plugins in AWS: each partner package is its own Lambda function (serverless.yml, `partner*` functions),
whose role may do nothing but write its logs. The engine invokes it synchronously with one protocol message
(rules/sandbox.py) and reads the answer; the function's own timeout and memory size cap each call.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from rules.sandbox import SandboxError


class LambdaRunner:
    def __init__(self, prefix: str, *, timeout: float = 3.0, client: Any = None) -> None:
        self.prefix = prefix  # siyu-<stage>-partner-: the function is the prefix and the entry-point name
        self.timeout = timeout
        self._client = client

    def client(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # No retries: a plugin that timed out once would only time out again, and the event is failed
            # (and kept) either way.
            self._client = boto3.client("lambda", config=Config(read_timeout=self.timeout + 2, connect_timeout=2,
                                                                retries={"max_attempts": 1}))
        return self._client

    def request(self, name: str, target: str, message: Mapping[str, Any]) -> dict[str, Any]:
        payload = json.dumps({**message, "plugin": name, "target": target}).encode()
        try:
            response = self.client().invoke(FunctionName=self.prefix + name, Payload=payload)
        except Exception as error:  # noqa: BLE001 - throttled, not deployed, timed out: the plugin cannot answer
            raise SandboxError(f"the plugin's function could not be invoked: {type(error).__name__}") from None
        body = response["Payload"].read()
        if response.get("FunctionError"):
            # The function itself failed (a timeout, out of memory): its message, never the plugin's traceback.
            reason = json.loads(body or b"{}").get("errorType", "error") if body else "error"
            raise SandboxError(f"the plugin's function failed: {reason}")
        answer = json.loads(body)
        if "error" in answer:
            raise SandboxError(answer["error"])
        return answer
