"""The eight functions: runtime, layers, environment, sizing, concurrency and the migration custom resource."""

from __future__ import annotations

from typing import Any

REQUIRED_ENVIRONMENT = {
    "TOLLGATE_STAGE", "TOLLGATE_DATABASE_SECRET_ARN", "TOLLGATE_DATABASE_HOST", "TOLLGATE_DATABASE_NAME",
    "TOLLGATE_KEY_BACKEND", "TOLLGATE_KMS_KEY_ARN", "TOLLGATE_ALERT_BACKEND", "TOLLGATE_ALERT_QUEUE_URL",
    "TOLLGATE_ROOT_KEY_SECRET_ARN", "TOLLGATE_PRICING_LITELLM_URL", "TOLLGATE_PRICING_OPENROUTER_URL",
    "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_LOG_LEVEL", "POWERTOOLS_METRICS_NAMESPACE",
}  # fmt: skip
API_GATEWAY_TIMEOUT_S = 30


def test_runtime_architecture_and_handler(any_stage: Any, function_name: str) -> None:
    properties = any_stage.function(function_name)["Properties"]
    assert properties["Runtime"] == "python3.12"
    assert properties["Architectures"] == ["arm64"]
    # execute runs the ASGI app behind the Lambda Web Adapter (run.sh); the others are plain handlers
    assert properties["Handler"] == ("run.sh" if function_name == "execute" else "handler.handler")
    assert properties["TracingConfig"] == {"Mode": "Active"}


def test_every_function_has_the_runtime_and_package_layers(any_stage: Any, function_name: str) -> None:
    layers = {ref["Ref"] for ref in any_stage.function(function_name)["Properties"]["Layers"] if "Ref" in ref}
    # Ours are under the `Layers` construct; the dashboard's BucketDeployment brings aws-cdk-lib's AWS CLI layer.
    ours = {k: v for k, v in any_stage.of_type("AWS::Lambda::LayerVersion").items() if k.startswith("Layers")}
    assert len(ours) == 2
    assert layers == set(ours)
    for layer in ours.values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.12"]
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]


def test_environment_carries_the_settings_contract(any_stage: Any, function_name: str) -> None:
    environment = any_stage.environment(function_name)
    assert set(environment) >= REQUIRED_ENVIRONMENT
    assert environment["TOLLGATE_STAGE"] == any_stage.stack.config.stage
    assert environment["TOLLGATE_KEY_BACKEND"] == "kms"
    assert environment["TOLLGATE_ALERT_BACKEND"] == "sqs"
    assert environment["TOLLGATE_DATABASE_NAME"] == "tollgate"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "tollgate"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Tollgate"
    assert environment["TOLLGATE_PRICING_LITELLM_URL"].startswith("https://raw.githubusercontent.com/BerriAI/")
    assert environment["TOLLGATE_PRICING_OPENROUTER_URL"] == "https://openrouter.ai/api/v1/models"


def test_ses_sender_is_passed_only_when_configured(dev: Any, prod: Any) -> None:
    assert "TOLLGATE_SES_FROM_ADDRESS" not in dev.environment("alert_delivery")
    assert prod.environment("alert_delivery")["TOLLGATE_SES_FROM_ADDRESS"] == prod.stack.config.ses_from_address


def test_environment_references_the_real_resources(dev: Any) -> None:
    environment = dev.environment("execute")
    (key_id,) = dev.of_type("AWS::KMS::Key")
    (queue_id,) = [i for i, q in dev.of_type("AWS::SQS::Queue").items() if "RedrivePolicy" in q["Properties"]]
    assert environment["TOLLGATE_KMS_KEY_ARN"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert environment["TOLLGATE_ALERT_QUEUE_URL"] == {"Ref": queue_id}
    assert environment["TOLLGATE_ROOT_KEY_SECRET_ARN"]["Ref"].startswith("RootKey")
    assert environment["TOLLGATE_DATABASE_SECRET_ARN"]["Ref"].startswith("DataInstanceSecretAttachment")


def test_api_functions_finish_within_reason_and_background_work_gets_longer(dev: Any) -> None:
    def timeout(name: str) -> int:
        return int(dev.function(name)["Properties"]["Timeout"])

    for name in ("keys", "budgets", "usage"):
        assert timeout(name) <= API_GATEWAY_TIMEOUT_S
    # execute streams for up to 15 minutes (REST API response streaming); its deadline ends calls before that
    assert timeout("execute") == 900
    assert timeout("migrate") >= 120
    assert timeout("pricing_updater") >= 60
    assert dev.function("execute")["Properties"]["MemorySize"] >= 1024


def test_prod_reserves_concurrency_to_protect_the_database(prod: Any, dev: Any, function_name: str) -> None:
    expected = {
        "execute": 130,
        "keys": 10,
        "budgets": 10,
        "usage": 10,
        "pricing_updater": 1,
        "sweeper": 1,
        "migrate": 1,
    }
    assert prod.function(function_name)["Properties"].get("ReservedConcurrentExecutions") == expected.get(function_name)
    # dev reserves nothing: new accounts have a concurrency quota of 10 and could not deploy otherwise
    assert "ReservedConcurrentExecutions" not in dev.function(function_name)["Properties"]


def test_alert_delivery_consumes_the_queue_with_partial_batch_responses(any_stage: Any) -> None:
    (mapping,) = any_stage.of_type("AWS::Lambda::EventSourceMapping").values()
    properties = mapping["Properties"]
    assert properties["FunctionName"] == {"Ref": any_stage.function_id("alert_delivery")}
    assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert properties["ScalingConfig"]["MaximumConcurrency"] <= 10
    (queue_id,) = [i for i, q in any_stage.of_type("AWS::SQS::Queue").items() if "RedrivePolicy" in q["Properties"]]
    assert properties["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}


def test_every_function_logs_to_its_own_group_with_stage_retention(any_stage: Any, function_name: str) -> None:
    logging = any_stage.function(function_name)["Properties"]["LoggingConfig"]
    group = any_stage.resources[logging["LogGroup"]["Ref"]]
    assert group["Properties"]["RetentionInDays"] == any_stage.stack.config.log_retention_days


def test_every_log_group_expires(any_stage: Any) -> None:
    for group in any_stage.of_type("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == any_stage.stack.config.log_retention_days


def test_migrations_run_through_the_migrate_function_on_every_deploy(dev: Any) -> None:
    (migration_id, migration) = next(iter(dev.of_type("Custom::TollgateMigrations").items()))
    token = migration["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    framework = dev.resources[token]["Properties"]
    assert framework["Environment"]["Variables"]["USER_ON_EVENT_FUNCTION_ARN"] == {
        "Fn::GetAtt": [dev.function_id("migrate"), "Arn"]
    }
    assert migration["Properties"]["DeployNonce"] == "test"  # pinned by the tests; a fresh timestamp otherwise
    assert {"PackageLayer", "RuntimeLayer"} <= set(migration["Properties"])
    for name in ("execute", "keys", "budgets", "usage", "pricing_updater", "alert_delivery", "sweeper"):
        assert migration_id in dev.function(name).get("DependsOn", []), name


def test_migration_waits_for_the_proxy_target(dev: Any) -> None:
    (migration,) = dev.of_type("Custom::TollgateMigrations").values()
    (target_group_id,) = dev.of_type("AWS::RDS::DBProxyTargetGroup")
    assert target_group_id in migration["DependsOn"]
