"""What is declared for the cloud must match what runs locally, and grant no more than the functions need.

These read serverless.yml itself, so they need no Node; tests/test_package.py checks what `serverless package`
makes of it.
"""

import re
from pathlib import Path

import yaml

from infra import table

ROOT = Path(__file__).resolve().parents[1]

# Environment variables the code reads (CONTRACT.md, "Environment"; infra/settings.py).
CONTRACT_ENV = {"SIYU_STAGE", "TABLE_NAME", "EVENT_BUS_NAME", "JWT_SECRET", "JWT_ISSUER", "PHONE_HASH_KEY"}


def serverless() -> dict:
    return yaml.safe_load((ROOT / "serverless.yml").read_text())


def resolve_self(node, config: dict):
    """Replace values that are exactly `${self:a.b}` with that part of the file, as serverless does."""
    if isinstance(node, str):
        match = re.fullmatch(r"\$\{self:([\w.]+)\}", node)
        if not match:
            return node
        value = config
        for part in match.group(1).split("."):
            value = value[int(part)] if isinstance(value, list) else value[part]
        return resolve_self(value, config)
    if isinstance(node, list):
        return [resolve_self(item, config) for item in node]
    if isinstance(node, dict):
        return {key: resolve_self(value, config) for key, value in node.items()}
    return node


def function_roles() -> dict[str, dict]:
    """Each function's IAM role resource, by function name, with `${self:...}` pieces filled in."""
    config = serverless()
    resources = config["resources"]["Resources"]
    return {
        name: resolve_self(resources[function["role"]], config)
        for name, function in config["functions"].items()
    }


def statements(role: dict) -> list[dict]:
    return [statement for policy in role["Properties"]["Policies"] for statement in policy["PolicyDocument"]["Statement"]]


def actions(statement: dict) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def test_the_table_in_serverless_yml_is_the_table_the_local_stack_creates():
    declared = serverless()["resources"]["Resources"]["SiyuTable"]
    props = declared["Properties"]
    local = table.create_table_kwargs("ignored")
    assert sorted(props["AttributeDefinitions"], key=str) == sorted(local["AttributeDefinitions"], key=str)
    assert props["KeySchema"] == local["KeySchema"]
    assert props["GlobalSecondaryIndexes"] == local["GlobalSecondaryIndexes"]
    assert props["LocalSecondaryIndexes"] == local["LocalSecondaryIndexes"]
    assert props["BillingMode"] == local["BillingMode"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": table.TTL_ATTRIBUTE, "Enabled": True}
    assert declared["DeletionPolicy"] == "Retain"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": local["StreamSpecification"]["StreamViewType"]}


def test_every_function_has_its_own_role_and_no_shared_role_is_declared():
    config = serverless()
    assert "iam" not in config["provider"] and "role" not in config["provider"]
    roles = [function.get("role") for function in config["functions"].values()]
    assert None not in roles, "every function names its own role"
    assert len(set(roles)) == len(roles)
    for role in roles:
        assert config["resources"]["Resources"][role]["Type"] == "AWS::IAM::Role"


def test_no_iam_statement_allows_every_action_or_every_resource():
    for name, role in function_roles().items():
        for statement in statements(role):
            assert statement["Effect"] in ("Allow", "Deny")
            if statement["Effect"] == "Deny":
                continue  # a deny only narrows what is allowed
            for action in actions(statement):
                assert action != "*" and not action.endswith(":*"), f"{name}: {action}"
            assert statement["Resource"] not in ("*", ["*"]), f"{name}: {statement}"


def test_the_graphql_function_cannot_scan_or_touch_the_queue_and_publishes_only_to_siyus_bus():
    granted = {(action, repr(statement["Resource"])) for statement in statements(function_roles()["graphql"])
               for action in actions(statement)}
    names = {action for action, _ in granted}
    assert "dynamodb:Scan" not in names
    assert not {action for action in names if action.startswith("sqs:")}
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"} <= names
    # checkIn, registerMember and bindReferralCode run the rules, whose follow-ups go out from this function too.
    assert {g for g in granted if g[0].startswith("events:")} == {
        ("events:PutEvents", repr({"Fn::GetAtt": ["EventBus", "Arn"]}))}


def test_dynamodb_access_is_limited_to_the_table_and_its_indexes():
    for name, role in function_roles().items():
        for statement in statements(role):
            if not any(action.startswith("dynamodb:") for action in actions(statement)):
                continue
            assert "dynamodb:Scan" not in actions(statement), f"{name}: sweeps query the byDue index"
            resource = statement["Resource"]
            as_text = repr(resource)
            assert "SiyuTable" in as_text, f"{name}: {resource}"
            if "index" in as_text:
                assert actions(statement) == ["dynamodb:Query"], f"{name}: only queries go to an index"


def test_the_events_function_publishes_to_its_bus_and_fails_over_to_its_queue():
    config = serverless()
    events = config["functions"]["events"]
    assert events["maximumRetryAttempts"] >= 0 and events["maximumEventAge"] > 0
    assert events["destinations"]["onFailure"]["arn"] == {"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]}
    granted = {
        (action, repr(statement["Resource"]))
        for statement in statements(function_roles()["events"])
        for action in actions(statement)
    }
    assert ("events:PutEvents", repr({"Fn::GetAtt": ["EventBus", "Arn"]})) in granted
    assert ("sqs:SendMessage", repr({"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]})) in granted


def environment_of(function: str) -> dict:
    """A function's environment as deployed: the provider's, with the function's own over it."""
    config = serverless()
    return {**config["provider"].get("environment", {}), **config["functions"][function].get("environment", {})}


def test_secrets_come_from_secrets_manager_at_deploy_time_under_the_contract_names():
    environment = environment_of("graphql")
    assert CONTRACT_ENV <= set(environment)
    text = (ROOT / "serverless.yml").read_text()
    assert "${ssm:" not in text, "serverless resolves ${ssm:...} when packaging, which needs AWS"
    for name in ("JWT_SECRET", "PHONE_HASH_KEY"):
        assert environment[name].startswith("{{resolve:secretsmanager:siyu/${sls:stage}:SecretString:"), name


def test_the_events_function_holds_no_secret_it_does_not_use():
    environment = environment_of("events")
    assert not {"JWT_SECRET", "PHONE_HASH_KEY", "WECHAT_APPS"} & set(environment)
    assert environment["SIYU_FUNCTION"] == "events" and {"TABLE_NAME", "EVENT_BUS_NAME"} <= set(environment)
    assert not any("secretsmanager" in action for s in statements(function_roles()["events"]) for action in actions(s))


def test_partner_plugins_run_in_functions_whose_role_can_do_nothing_but_log():
    functions = serverless()["functions"]
    partners = {name: f for name, f in functions.items() if f["handler"] == "rules/sandbox_host.lambda_handler"}
    assert partners, "the example partner packages are deployed as functions of their own"
    for name, function in partners.items():
        environment = environment_of(name)
        assert set(environment) == {"SIYU_STAGE", "SIYU_SANDBOX_PLUGIN"}, name
        assert function["timeout"] <= 5 and function["memorySize"] <= 512, name
        granted = [action for s in statements(function_roles()[name]) if s["Effect"] == "Allow" for action in actions(s)]
        assert set(granted) == {"logs:CreateLogStream", "logs:PutLogEvents"}, name
    for caller in ("events", "graphql"):
        assert "lambda:InvokeFunction" in {a for s in statements(function_roles()[caller]) for a in actions(s)}


def test_a_brands_publishing_role_may_only_use_its_own_sources():
    role = serverless()["resources"]["Resources"]["BrandPublisherRole"]
    (statement,) = statements(role)
    assert statement["Action"] == "events:PutEvents"
    assert statement["Condition"]["StringLike"]["events:source"] == [
        {"Fn::Sub": "siyu.brand.${PublisherBrandId}"}, {"Fn::Sub": "siyu.brand.${PublisherBrandId}.*"}]


def test_only_the_graphql_function_gets_the_mini_programs_secrets():
    functions = serverless()["functions"]
    assert functions["graphql"]["environment"]["WECHAT_APPS"] == \
        "{{resolve:secretsmanager:siyu/${sls:stage}:SecretString:wechatApps}}"
    assert "WECHAT_APPS" not in functions["events"].get("environment", {})
    assert "WECHAT_APPS" not in serverless()["provider"]["environment"]


def test_functions_declare_memory_and_timeout_within_the_http_api_limit():
    functions = serverless()["functions"]
    for name, function in functions.items():
        assert function["memorySize"] >= 128 and function["timeout"] > 0, name
    assert functions["graphql"]["timeout"] < 30, "an HTTP API integration times out after 30 s"


def test_the_http_api_is_throttled():
    config = serverless()
    settings = config["resources"]["extensions"]["HttpApiStage"]["Properties"]["DefaultRouteSettings"]
    assert set(settings) == {"ThrottlingRateLimit", "ThrottlingBurstLimit"}
    for stage in ("default", "prod"):
        params = {**config["params"]["default"], **config["params"][stage]}
        assert 0 < params["apiRateLimit"] <= params["apiBurstLimit"]


def test_the_artifact_is_built_for_the_architecture_the_functions_run_on():
    architecture = serverless()["provider"]["architecture"]
    platform = re.search(r"^LAMBDA_PLATFORM := (\S+)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    assert platform.endswith({"arm64": "_aarch64", "x86_64": "_x86_64"}[architecture])


def test_the_event_bus_rule_routes_every_business_event_the_engine_handles():
    from rules.events import hooks

    HOOKS = hooks()

    events = serverless()["functions"]["events"]["events"]
    (rule,) = [e["eventBridge"] for e in events if "eventBridge" in e]
    assert sorted(rule["pattern"]["detail-type"]) == sorted(HOOKS)


def test_no_function_may_change_or_delete_an_audit_record():
    for name, role in function_roles().items():
        if not any(a.startswith("dynamodb:") for s in statements(role) for a in actions(s)):
            continue  # a partner plugin's role reaches no table at all
        denies = [s for s in statements(role) if s["Effect"] == "Deny"]
        assert any({"dynamodb:UpdateItem", "dynamodb:DeleteItem"} <= set(actions(s))
                   and s["Condition"]["ForAnyValue:StringLike"]["dynamodb:LeadingKeys"] == ["BRAND#*#AUDIT"]
                   for s in denies), name


def test_functions_publish_only_the_engines_follow_ups_and_every_built_in_emit_is_one_of_them():
    from infra.eventbus import SOURCE
    from rules.engine import follow_up_types

    FOLLOW_UP_TYPES = follow_up_types()

    publishers = 0
    for name, role in function_roles().items():
        found = [s for s in statements(role) if "events:PutEvents" in actions(s)]
        if (name.startswith("partner") or name == "insights") and not found:
            continue  # a partner plugin's role can do nothing but write its logs; the KPIs publish nothing
        (publish,) = found
        publishers += 1
        condition = publish["Condition"]["ForAllValues:StringEquals"]
        assert condition["events:source"] == [SOURCE], name
        assert sorted(condition["events:detail-type"]) == sorted(FOLLOW_UP_TYPES), name
        assert publish["Condition"]["Null"] == {"events:source": "false", "events:detail-type": "false"}
    assert publishers >= 2  # the API and the events function
    # No business event (what the events function consumes) can be put by a function.
    from rules.events import hooks

    HOOKS = hooks()

    assert not set(FOLLOW_UP_TYPES) & set(HOOKS)
    emitted = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        emitted |= set(re.findall(r'Emit\(detail_type="([\w.]+)"', path.read_text()))
    assert emitted and emitted <= set(FOLLOW_UP_TYPES), emitted - set(FOLLOW_UP_TYPES)


def test_audit_records_are_archived_where_only_new_objects_can_be_put_and_none_deleted():
    config = serverless()
    resources = config["resources"]["Resources"]
    bucket = resources["AuditBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True and bucket["VersioningConfiguration"]["Status"] == "Enabled"
    assert bucket["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] == "COMPLIANCE"
    assert resources["AuditBucket"]["DeletionPolicy"] == "Retain"
    policy = resources["AuditBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert any(s["Effect"] == "Deny" and s["Action"] == "s3:PutObject"
               and s["Condition"] == {"Null": {"s3:if-none-match": "true"}} for s in policy)
    s3 = [(name, s) for name, role in function_roles().items() for s in statements(role)
          if any(a.startswith("s3:") for a in actions(s))]
    # Only the API writes audit records; it may put new objects and nothing else (no delete, no retention change).
    assert [(name, actions(s), s["Condition"]) for name, s in s3] == [
        ("graphql", ["s3:PutObject"], {"Null": {"s3:if-none-match": "false"}})]
    assert config["functions"]["graphql"]["environment"]["AUDIT_BUCKET"] == {"Ref": "AuditBucket"}


def test_the_kpis_are_counted_off_the_event_path_from_the_tables_stream_in_batches_with_a_dead_letter_queue():
    config = serverless()
    function = config["functions"]["insights"]
    assert function["handler"] == "events/stream.handler"
    (source,) = [e["stream"] for e in function["events"]]
    assert source["type"] == "dynamodb" and source["arn"] == {"Fn::GetAtt": ["SiyuTable", "StreamArn"]}
    assert source["batchSize"] > 1 and source["batchWindow"] > 0
    assert source["functionResponseType"] == "ReportBatchItemFailures" and source["bisectBatchOnFunctionError"]
    assert source["destinations"]["onFailure"]["arn"] == {"Fn::GetAtt": ["InsightsDeadLetterQueue", "Arn"]}
    resources = config["resources"]["Resources"]
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]
    assert any(a["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["InsightsDeadLetterQueue", "QueueName"]}
               for a in alarms)
    granted = {(a, repr(s["Resource"])) for s in statements(function_roles()["insights"]) if s["Effect"] == "Allow"
               for a in actions(s)}
    assert ("sqs:SendMessage", repr({"Fn::GetAtt": ["InsightsDeadLetterQueue", "Arn"]})) in granted
    assert ("dynamodb:GetRecords", repr({"Fn::GetAtt": ["SiyuTable", "StreamArn"]})) in granted
    assert not {a for a, _ in granted if a.startswith(("events:", "lambda:", "s3:", "secretsmanager:"))}
    environment = environment_of("insights")
    assert not {"JWT_SECRET", "PHONE_HASH_KEY", "WECHAT_APPS"} & set(environment)
