"""What is declared for the cloud must match what runs locally."""

from pathlib import Path

import yaml

from infra import table

ROOT = Path(__file__).resolve().parents[1]


def serverless() -> dict:
    return yaml.safe_load((ROOT / "serverless.yml").read_text())


def test_the_table_in_serverless_yml_is_the_table_the_local_stack_creates():
    declared = serverless()["resources"]["Resources"]["SiyuTable"]
    props = declared["Properties"]
    local = table.create_table_kwargs("ignored")
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(local["AttributeDefinitions"], key=str)
    assert props["KeySchema"] == local["KeySchema"]
    assert props["GlobalSecondaryIndexes"] == local["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == local["BillingMode"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": table.TTL_ATTRIBUTE, "Enabled": True}
    assert declared["DeletionPolicy"] == "Retain"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
