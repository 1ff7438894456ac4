"""Least privilege: each function's role allows exactly the actions it needs, on named resources, and the KMS
key policy is the complete list of who may use the provider-key key."""

from __future__ import annotations

from typing import Any

DATABASE_SECRET = {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
XRAY = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}
SEND_ALERT = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}
CONSUME_ALERTS = {
    "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueUrl", "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
}  # fmt: skip
DECRYPT = {"kms:Decrypt"}
ENCRYPT_DECRYPT = {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}
SEND_EMAIL = {"ses:SendEmail", "ses:SendRawEmail"}

# KMS use, alert queue use, root key, beyond what every function has (database secret + X-Ray)
EXTRA_ACTIONS: dict[str, set[str]] = {
    "execute": DECRYPT | SEND_ALERT,
    "keys": ENCRYPT_DECRYPT,
    "budgets": ENCRYPT_DECRYPT | SEND_ALERT,
    "usage": set(),
    "pricing_updater": SEND_ALERT | {"sns:Publish"},  # operators' topic: rejected price feeds
    "alert_delivery": DECRYPT | CONSUME_ALERTS,
    "sweeper": set(),
    "migrate": set(),
}
READS_ROOT_KEY = {"execute", "keys", "budgets", "usage", "pricing_updater"}
KEY_USERS = {"execute": DECRYPT, "keys": ENCRYPT_DECRYPT, "budgets": ENCRYPT_DECRYPT, "alert_delivery": DECRYPT}


def actions_of(statements: list[dict[str, Any]]) -> set[str]:
    actions: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        actions.update([value] if isinstance(value, str) else value)
    return actions


def resources_of(statement: dict[str, Any]) -> list[Any]:
    value = statement["Resource"]
    return value if isinstance(value, list) else [value]


def kms_key_id(stack: Any) -> str:
    key_id: str
    (key_id,) = stack.of_type("AWS::KMS::Key")
    return key_id


def test_function_role_allows_exactly_what_the_function_needs(dev: Any, function_name: str) -> None:
    name = function_name
    expected = DATABASE_SECRET | XRAY | EXTRA_ACTIONS[name]
    assert actions_of(dev.role_statements(name)) == expected


def test_no_wildcard_actions_and_star_resources_only_for_xray(any_stage: Any, function_name: str) -> None:
    name = function_name
    for statement in any_stage.role_statements(name):
        actions = actions_of([statement])
        assert all("*" not in action for action in actions), statement
        if "*" in resources_of(statement):
            assert actions <= XRAY, f"{name}: '*' resource outside X-Ray: {statement}"


def test_kms_permissions_are_scoped_to_the_provider_key(dev: Any, function_name: str) -> None:
    name = function_name
    key_arn = {"Fn::GetAtt": [kms_key_id(dev), "Arn"]}
    kms_statements = [s for s in dev.role_statements(name) if any(a.startswith("kms:") for a in actions_of([s]))]
    for statement in kms_statements:
        assert resources_of(statement) == [key_arn]
    assert actions_of(kms_statements) == KEY_USERS.get(name, set())


def test_only_api_functions_read_the_root_key(dev: Any, function_name: str) -> None:
    name = function_name
    (root_secret_id,) = [i for i in dev.of_type("AWS::SecretsManager::Secret") if i.startswith("RootKey")]
    reads = any(
        {"Ref": root_secret_id} in resources_of(s)
        for s in dev.role_statements(name)
        if "secretsmanager:GetSecretValue" in actions_of([s])
    )
    assert reads == (name in READS_ROOT_KEY)


def test_key_policy_names_each_key_user_with_exactly_its_actions(any_stage: Any) -> None:
    policy = any_stage.resources[kms_key_id(any_stage)]["Properties"]["KeyPolicy"]["Statement"]
    by_role: dict[str, set[str]] = {}
    for statement in policy:
        principal = statement["Principal"]["AWS"]
        if isinstance(principal, dict) and "Fn::GetAtt" in principal:
            by_role.setdefault(principal["Fn::GetAtt"][0], set()).update(actions_of([statement]))
    assert by_role == {any_stage.role_id(name): actions for name, actions in KEY_USERS.items()}


def test_account_may_administer_but_not_use_the_key(any_stage: Any) -> None:
    policy = any_stage.resources[kms_key_id(any_stage)]["Properties"]["KeyPolicy"]["Statement"]
    account_actions = actions_of([s for s in policy if not isinstance(s["Principal"]["AWS"], dict)
                                  or "Fn::GetAtt" not in s["Principal"]["AWS"]])  # fmt: skip
    assert "kms:*" not in account_actions
    assert not account_actions & {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ReEncrypt*"}
    assert "kms:PutKeyPolicy" in account_actions or "kms:Put*" in account_actions  # no lock-out


def test_ses_send_is_scoped_to_the_configured_sender(prod: Any) -> None:
    sender = prod.stack.config.ses_from_address
    assert sender == "alerts@example.com"
    (statement,) = [s for s in prod.role_statements("alert_delivery") if actions_of([s]) == SEND_EMAIL]
    assert statement["Condition"] == {"StringEquals": {"ses:FromAddress": sender}}
    identities = [r["Fn::Join"][1][-1] for r in resources_of(statement)]
    assert identities == [f":identity/{sender}", ":identity/example.com"]


def test_without_a_sender_nothing_may_send_email(dev: Any, function_name: str) -> None:
    assert dev.stack.config.ses_from_address is None
    assert not actions_of(dev.role_statements(function_name)) & SEND_EMAIL
