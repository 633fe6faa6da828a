"""The `siyu` CLI loads the partner plugins of the stack it talks to, not whatever its own shell happens to hold."""

import io
import os
import zipfile

import boto3
import pytest

from infra import cli, stack_allow_list
from tests.helpers import mock_aws_beside_the_embedded_server


@pytest.fixture
def shell(monkeypatch, tmp_path):
    """The CLI's environment, for this test only, in a folder of its own."""
    monkeypatch.chdir(tmp_path)
    environment = {k: v for k, v in os.environ.items() if k != "SIYU_PARTNER_PLUGINS"}
    monkeypatch.setattr(os, "environ", environment)
    return environment


def test_against_the_local_stack_it_loads_the_allow_list_make_dev_started_with(shell):
    stack_allow_list.record_local("http://127.0.0.1:8123", {"SIYU_PARTNER_PLUGINS": "wecom_group_bonus"})
    cli._environment(cli.build_parser().parse_args(["--dynamodb-url", "http://127.0.0.1:8123", "simulate", "x"]))
    assert shell["SIYU_PARTNER_PLUGINS"] == "wecom_group_bonus"


def test_a_stack_recorded_at_another_address_is_not_the_one_it_talks_to(shell):
    stack_allow_list.record_local("http://127.0.0.1:9999", {"SIYU_PARTNER_PLUGINS": "wecom_group_bonus"})
    cli._environment(cli.build_parser().parse_args(["--dynamodb-url", "http://127.0.0.1:8123", "simulate", "x"]))
    assert "SIYU_PARTNER_PLUGINS" not in shell


def test_an_allow_list_set_by_hand_wins(shell):
    shell["SIYU_PARTNER_PLUGINS"] = "member_day"
    stack_allow_list.record_local("http://127.0.0.1:8123", {"SIYU_PARTNER_PLUGINS": "wecom_group_bonus"})
    cli._environment(cli.build_parser().parse_args(["--dynamodb-url", "http://127.0.0.1:8123", "simulate", "x"]))
    assert shell["SIYU_PARTNER_PLUGINS"] == "member_day"


def test_against_a_deployed_stack_it_reads_the_events_functions_allow_list_and_runner():
    with mock_aws_beside_the_embedded_server():
        iam = boto3.client("iam", region_name="us-east-1")
        role = iam.create_role(RoleName="events", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr("handler.py", "def handler(e, c): return e\n")
        client = boto3.client("lambda", region_name="us-east-1")
        client.create_function(FunctionName="siyu-dev-events", Runtime="python3.11", Role=role,
                               Handler="handler.handler", Code={"ZipFile": code.getvalue()},
                               Environment={"Variables": {"SIYU_PARTNER_PLUGINS": "wecom_group_bonus",
                                                          "SIYU_PARTNER_RUNNER": "lambda",
                                                          "SIYU_PARTNER_FUNCTION_PREFIX": "siyu-dev-partner-",
                                                          "TABLE_NAME": "siyu-dev"}})
        carried = stack_allow_list.deployed("dev", client)
    assert carried == {"SIYU_PARTNER_PLUGINS": "wecom_group_bonus", "SIYU_PARTNER_RUNNER": "lambda",
                       "SIYU_PARTNER_FUNCTION_PREFIX": "siyu-dev-partner-"}
