"""What `make package-check` builds: the Lambda artifact and the CloudFormation template `serverless package` makes.

`make test` runs `package-check` before pytest, so here both are fresh and these tests never skip. Run alone, the
fixture asks make for them (a no-op when they are up to date). They need the Serverless Framework from
package.json (`npm ci`, which `make package-check` runs): without it they are skipped.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SERVERLESS = ROOT / "node_modules" / ".bin" / "serverless"
TEMPLATE = ROOT / ".serverless" / "cloudformation-template-update-stack.json"
CONFIG = yaml.safe_load((ROOT / "serverless.yml").read_text())
ARTIFACT = ROOT / CONFIG["package"]["artifact"]

PACKAGES = ("api", "rules", "plugins", "events", "infra")
LOCAL_ONLY = {"infra/local.py", "infra/embedded_dynamodb.py", "infra/demo.py"}
NEVER_SHIPPED = ("tests/", "node_modules/", "examples/", "bench/", ".venv/", ".serverless/", "build/", ".git/")
# Lambda's limits on a function's deployment package (uploaded through S3).
MAX_ZIPPED = 50 * 1024 * 1024
MAX_UNZIPPED = 250 * 1024 * 1024

pytestmark = pytest.mark.skipif(
    not SERVERLESS.exists(),
    reason="the Serverless Framework is not installed (node_modules/.bin/serverless): run `make package-check`",
)


@pytest.fixture(scope="module")
def built() -> None:
    """The artifact and the template, rebuilt by make only if they are out of date."""
    subprocess.run(["make", "--no-print-directory", str(TEMPLATE.relative_to(ROOT))], cwd=ROOT, check=True)


@pytest.fixture(scope="module")
def artifact(built) -> zipfile.ZipFile:
    with zipfile.ZipFile(ARTIFACT) as zf:
        yield zf


@pytest.fixture(scope="module")
def template(built) -> dict:
    return json.loads(TEMPLATE.read_text())


def resources_of_type(template: dict, kind: str) -> dict[str, dict]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_the_artifact_holds_the_code_that_runs_and_nothing_else(artifact):
    names = artifact.namelist()
    assert "api/handler.py" in names and "rules/ledger.py" in names
    assert not [name for name in names if name.startswith(NEVER_SHIPPED)]
    assert not LOCAL_ONLY & set(names)
    assert not [name for name in names if name.startswith("bin/")], "pip's console scripts are not needed"


def test_the_artifact_code_is_the_checked_out_code(artifact):
    names = set(artifact.namelist())
    sources = [
        path for package in PACKAGES for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    ]
    for path in sources:
        name = path.relative_to(ROOT).as_posix()
        if name in LOCAL_ONLY:
            continue
        assert name in names, f"{name} is missing: run `make package-check`"
        assert artifact.read(name) == path.read_bytes(), f"{name} is stale: run `make package-check`"


def test_the_artifact_holds_every_runtime_dependency_at_its_pinned_version(artifact):
    installed = {
        re.sub(r"[-_.]+", "-", match.group(1)).lower(): match.group(2)
        for name in artifact.namelist()
        if (match := re.fullmatch(r"([^/]+)-([^-/]+)\.dist-info/METADATA", name))
    }
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for requirement in dependencies:
        name, version = requirement.split("==")
        assert installed.get(re.sub(r"[-_.]+", "-", name).lower()) == version, requirement


def test_compiled_modules_are_built_for_the_functions_architecture(artifact):
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}[CONFIG["provider"]["architecture"]]
    extensions = [name for name in artifact.namelist() if name.endswith(".so")]
    assert extensions, "rpds-py (under jsonschema) has a compiled module"
    for name in extensions:
        assert name.endswith(f".cpython-311-{machine}-linux-gnu.so"), name


def test_the_artifact_is_precompiled_and_within_lambda_limits(artifact):
    names = set(artifact.namelist())
    assert "api/__pycache__/handler.cpython-311.pyc" in names
    assert "infra/__pycache__/dataclass_code.cpython-311.marshal" in names  # dataclasses' methods, precompiled
    assert "infra/__pycache__/botocore_data.cpython-311.marshal" in names  # botocore's JSON, parsed
    assert ARTIFACT.stat().st_size < MAX_ZIPPED
    assert sum(info.file_size for info in artifact.infolist()) < MAX_UNZIPPED


PARTNER_HANDLER = "rules/sandbox_host.lambda_handler"


def siyu_functions(template: dict) -> dict[str, dict]:
    return {name: f for name, f in resources_of_type(template, "AWS::Lambda::Function").items()
            if f["Properties"]["Handler"] != PARTNER_HANDLER}


def test_siyus_functions_run_the_artifact_on_python_311(template):
    functions = siyu_functions(template)
    assert {f["Properties"]["Handler"] for f in functions.values()} == {"api/handler.handler", "events/handler.handler",
                                                                         "events/stream.handler",
                                                                         "events/sweep_worker.handler"}
    for function in functions.values():
        props = function["Properties"]
        assert props["Code"]["S3Key"].endswith("/" + ARTIFACT.name)
        assert props["Runtime"] == "python3.11"
        assert props["Architectures"] == [CONFIG["provider"]["architecture"]]


def test_partner_plugins_run_from_artifacts_of_their_own_holding_rules_and_their_package_only(template):
    partners = {f["Properties"]["Environment"]["Variables"]["SIYU_SANDBOX_PLUGIN"]: f["Properties"]
                for f in resources_of_type(template, "AWS::Lambda::Function").values()
                if f["Properties"]["Handler"] == PARTNER_HANDLER}
    assert set(partners) == {"wecom_group_bonus", "member_day"}
    for plugin, props in partners.items():
        assert props["Code"]["S3Key"].endswith(f"/partner-{plugin}.zip") and props["Runtime"] == "python3.11"
        with zipfile.ZipFile(ROOT / "build" / f"partner-{plugin}.zip") as zf:
            names = set(zf.namelist())
        assert {"rules/sandbox_host.py", "rules/wire.py", "plugins/coupons/effects.py", f"{plugin}/__init__.py"} <= names
        assert not [n for n in names if n.startswith(("api/", "infra/", "events/"))], plugin
        assert not [n for n in names if n.startswith("plugins/") and n.endswith(("/storage.py", "/graphql.py"))]


def test_the_template_holds_no_secret_and_resolves_secrets_at_deploy_time(template):
    functions = {f["Properties"]["Handler"]: f["Properties"]["Environment"]["Variables"]
                 for f in resources_of_type(template, "AWS::Lambda::Function").values()}
    graphql = functions.pop("api/handler.handler")
    assert graphql["JWT_SECRET"] == "{{resolve:secretsmanager:siyu/ci:SecretString:jwtSecret}}"
    assert graphql["PHONE_HASH_KEY"] == "{{resolve:secretsmanager:siyu/ci:SecretString:phoneHashKey}}"
    assert graphql["SIYU_STAGE"] == "ci"
    for handler, variables in functions.items():
        # The events function signs nothing, and partner plugins must never see a secret.
        assert not {"JWT_SECRET", "PHONE_HASH_KEY", "WECHAT_APPS"} & set(variables), handler
        assert variables["SIYU_STAGE"] == "ci"


def test_every_role_in_the_template_is_a_function_role_without_wildcard_actions(template):
    roles = resources_of_type(template, "AWS::IAM::Role")
    assert "IamRoleLambdaExecution" not in roles, "no shared role: each function has its own"
    used = {f["Properties"]["Role"]["Fn::GetAtt"][0] for f in resources_of_type(template, "AWS::Lambda::Function").values()}
    # The one role no function uses: the one a brand's systems publish with, created only when a brand is named.
    assert roles["BrandPublisherRole"]["Condition"] == "HasBrandPublisher"
    assert set(roles) - {"BrandPublisherRole"} == used
    for name, role in roles.items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                granted = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert not [a for a in granted if a == "*" or a.endswith(":*")], f"{name}: {granted}"
                if name == "GraphqlRole":
                    assert "dynamodb:Scan" not in granted


def test_the_kpi_function_reads_the_tables_stream_in_batches_and_fails_over_to_its_own_queue(template):
    # The stream's mapping (the sweep workers' SQS mapping is the other one).
    (mapping,) = [m for m in resources_of_type(template, "AWS::Lambda::EventSourceMapping").values()
                  if m["Properties"]["EventSourceArn"] == {"Fn::GetAtt": ["SiyuTable", "StreamArn"]}]
    props = mapping["Properties"]
    assert props["BatchSize"] == 100 and props["MaximumBatchingWindowInSeconds"] == 5
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"] and props["BisectBatchOnFunctionError"]
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["InsightsDeadLetterQueue", "Arn"]}
    table = template["Resources"]["SiyuTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_the_events_function_retries_then_fails_over_to_the_dead_letter_queue(template):
    (config,) = resources_of_type(template, "AWS::Lambda::EventInvokeConfig").values()
    props = config["Properties"]
    assert props["MaximumRetryAttempts"] == 2 and props["MaximumEventAgeInSeconds"] == 3600
    assert props["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}


def test_the_http_api_stage_is_throttled(template):
    (stage,) = resources_of_type(template, "AWS::ApiGatewayV2::Stage").values()
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings["ThrottlingRateLimit"] > 0 and settings["ThrottlingBurstLimit"] > 0


def test_the_member_centre_is_served_from_a_private_bucket_through_cloudfront_next_to_the_api(template):
    bucket = resources_of_type(template, "AWS::S3::Bucket")["MemberCentreBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    statement = template["Resources"]["MemberCentreBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Principal"] for s in statement] == [{"Service": "cloudfront.amazonaws.com"}]
    config = template["Resources"]["MemberCentreDistribution"]["Properties"]["DistributionConfig"]
    assert config["DefaultCacheBehavior"]["TargetOriginId"] == "pages"
    assert [(b["PathPattern"], b["TargetOriginId"]) for b in config["CacheBehaviors"]] == [("/graphql", "api")]


def test_browsers_reach_the_api_only_from_the_origins_the_stage_names(template):
    """No API Gateway CORS (it would answer every origin): the app answers preflights from SIYU_CORS_ORIGINS."""
    api = resources_of_type(template, "AWS::ApiGatewayV2::Api")
    assert all("CorsConfiguration" not in a["Properties"] for a in api.values())
    routes = {r["Properties"]["RouteKey"] for r in resources_of_type(template, "AWS::ApiGatewayV2::Route").values()}
    assert {"POST /graphql", "OPTIONS /graphql"} <= routes
    graphql = next(f for f in resources_of_type(template, "AWS::Lambda::Function").values()
                   if f["Properties"]["Handler"] == "api/handler.handler")
    assert "SIYU_CORS_ORIGINS" in graphql["Properties"]["Environment"]["Variables"]
