"""KMS key, secrets, alert queue and database settings."""

from __future__ import annotations

import re
from typing import Any

from tollgate_infra.constructs.security import ROOT_KEY_INITIALIZER_CODE


def only(resources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert len(resources) == 1, sorted(resources)
    properties: dict[str, Any] = next(iter(resources.values()))["Properties"]
    return properties


def test_provider_key_is_customer_managed_with_rotation(any_stage: Any) -> None:
    key = only(any_stage.of_type("AWS::KMS::Key"))
    assert key["EnableKeyRotation"] is True
    aliases = [a["Properties"]["AliasName"] for a in any_stage.of_type("AWS::KMS::Alias").values()]
    assert f"alias/tollgate/{any_stage.stack.config.stage}/provider-keys" in aliases


def test_prod_keeps_the_key_and_dev_lets_it_go(dev: Any, prod: Any) -> None:
    (prod_key,) = prod.of_type("AWS::KMS::Key").values()
    (dev_key,) = dev.of_type("AWS::KMS::Key").values()
    assert prod_key["DeletionPolicy"] == "Retain"
    assert dev_key["DeletionPolicy"] == "Delete"


def test_alert_queue_has_a_dead_letter_queue_and_encryption(any_stage: Any) -> None:
    queues = any_stage.of_type("AWS::SQS::Queue")
    (queue_id,) = [i for i, q in queues.items() if "RedrivePolicy" in q["Properties"]]
    (dlq_id,) = [i for i in queues if i != queue_id]
    redrive = queues[queue_id]["Properties"]["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": [dlq_id, "Arn"]}
    assert redrive["maxReceiveCount"] == 5
    for queue in queues.values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queues[dlq_id]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_alert_queues_refuse_plain_http(any_stage: Any) -> None:
    for policy in any_stage.of_type("AWS::SQS::QueuePolicy").values():
        (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
        assert statement["Effect"] == "Deny"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert len(any_stage.of_type("AWS::SQS::QueuePolicy")) == 2


def test_visibility_timeout_outlasts_alert_delivery_retries(dev: Any) -> None:
    timeout = dev.function("alert_delivery")["Properties"]["Timeout"]
    (queue,) = [q for q in dev.of_type("AWS::SQS::Queue").values() if "RedrivePolicy" in q["Properties"]]
    assert queue["Properties"]["VisibilityTimeout"] >= 6 * timeout


def test_root_key_secret_is_generated_then_shaped_by_a_custom_resource(dev: Any) -> None:
    secrets = dev.of_type("AWS::SecretsManager::Secret")
    (root,) = [s["Properties"] for i, s in secrets.items() if i.startswith("RootKey")]
    assert root["Name"] == "tollgate/dev/root-key"
    assert root["GenerateSecretString"]["ExcludePunctuation"] is True
    (initializer,) = dev.of_type("Custom::TollgateRootKey").values()
    assert "SecretArn" in initializer["Properties"]


def test_root_key_initializer_writes_the_documented_shape() -> None:
    # Given the inline source the custom resource runs
    source = ROOT_KEY_INITIALIZER_CODE.read_text()
    assert len(source) < 4096, "CloudFormation inline code (ZipFile) is limited to 4 KiB"
    namespace: dict[str, Any] = {}
    # When its key generator runs (cfnresponse and boto3 exist only in Lambda)
    body = source.split("def handler", 1)[0].replace("import boto3\nimport cfnresponse\n", "")
    exec(compile(body, "root_key_initializer", "exec"), namespace)  # noqa: S102 - our own source file
    # Then it yields tg_<12 lowercase alnum>_<32 alnum>, fresh each time
    keys = {namespace["new_root_key"]() for _ in range(20)}
    assert len(keys) == 20
    assert all(re.fullmatch(r"tg_[a-z0-9]{12}_[A-Za-z0-9]{32}", key) for key in keys)


def test_database_is_encrypted_backed_up_and_private(any_stage: Any) -> None:
    config = any_stage.stack.config
    database = only(any_stage.of_type("AWS::RDS::DBInstance"))
    assert database["StorageEncrypted"] is True
    assert database["Engine"] == "postgres"
    assert database["BackupRetentionPeriod"] == config.database_backup_retention_days
    assert database["DeletionProtection"] is config.deletion_protection
    assert database["MultiAZ"] is config.database_multi_az
    assert database.get("PubliclyAccessible", False) is False
    assert database["DBName"] == "tollgate"


def test_prod_protects_data_and_dev_can_be_torn_down(dev: Any, prod: Any) -> None:
    (prod_db,) = prod.of_type("AWS::RDS::DBInstance").values()
    (dev_db,) = dev.of_type("AWS::RDS::DBInstance").values()
    assert prod_db["Properties"]["DeletionProtection"] is True
    assert prod_db["DeletionPolicy"] == "Snapshot"
    assert prod_db["Properties"]["MultiAZ"] is True
    assert dev_db["Properties"]["DeletionProtection"] is False
    assert dev_db["DeletionPolicy"] == "Delete"
    prod_secrets = prod.of_type("AWS::SecretsManager::Secret").values()
    assert {s["DeletionPolicy"] for s in prod_secrets} == {"Retain"}


def test_database_credentials_live_in_secrets_manager_and_rotate_in_prod(dev: Any, prod: Any) -> None:
    for stack in (dev, prod):
        database = only(stack.of_type("AWS::RDS::DBInstance"))
        assert "{{resolve:secretsmanager:" in str(database["MasterUserPassword"])
    assert len(prod.of_type("AWS::SecretsManager::RotationSchedule")) == 1
    assert not dev.of_type("AWS::SecretsManager::RotationSchedule")


def test_proxy_requires_tls_and_uses_the_database_secret(any_stage: Any) -> None:
    proxy = only(any_stage.of_type("AWS::RDS::DBProxy"))
    assert proxy["RequireTLS"] is True
    assert proxy["EngineFamily"] == "POSTGRESQL"
    (auth,) = proxy["Auth"]
    assert "SecretArn" in auth
