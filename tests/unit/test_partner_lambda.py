"""The engine's side of a partner's Lambda function: one synchronous invoke per protocol message, by function name."""

import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from infra.partner_lambda import LambdaRunner
from rules.sandbox import SandboxError


def answering(payload: dict, function_error: str | None = None):
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    body = json.dumps(payload).encode()
    response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
    if function_error:
        response["FunctionError"] = function_error
    stubber.add_response("invoke", response, {"FunctionName": "siyu-prod-partner-member_day",
                                              "Payload": json.dumps({"op": "describe", "plugin": "member_day",
                                                                     "target": "member_day"}).encode()})
    stubber.activate()
    return LambdaRunner("siyu-prod-partner-", client=client)


def test_it_invokes_the_plugins_own_function_and_returns_its_answer():
    answer = answering({"info": {"name": "member_day"}, "hooks": []}).request("member_day", "member_day",
                                                                              {"op": "describe"})
    assert answer["info"]["name"] == "member_day"


def test_what_the_plugin_raised_comes_back_as_a_sandbox_error():
    with pytest.raises(SandboxError, match="ZeroDivisionError"):
        answering({"error": "ZeroDivisionError: division by zero"}).request("member_day", "member_day",
                                                                            {"op": "describe"})


def test_a_function_that_timed_out_or_ran_out_of_memory_fails_by_its_error_type_only():
    with pytest.raises(SandboxError, match="failed: Runtime.ExitError"):
        answering({"errorType": "Runtime.ExitError", "errorMessage": "signal: killed"},
                  function_error="Unhandled").request("member_day", "member_day", {"op": "describe"})
