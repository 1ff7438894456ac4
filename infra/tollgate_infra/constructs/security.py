"""Security: the customer-managed KMS key that wraps provider keys and alert channel secrets, and the
gateway's root key in Secrets Manager.

The key policy trusts the account only to *administer* the key; no IAM policy alone can use it. Encrypt or
decrypt rights are granted per function role in the key policy itself (`allow_key_use`), so the key policy is
the complete list of who can read provider keys.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from tollgate_infra.config import StageConfig
from tollgate_infra.function_specs import KeyUse
from tollgate_infra.log_groups import stage_log_group

KEY_ADMINISTRATION_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)
ROOT_KEY_INITIALIZER_CODE = Path(__file__).parents[1] / "assets" / "root_key_initializer.py"


class ProviderKeyEncryption(Construct):
    """KMS key (annual rotation) for aws-encryption-sdk envelopes of provider keys and channel secrets."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        administration = iam.PolicyStatement(
            sid="AccountAdministersButCannotUseKey",
            principals=[iam.AccountRootPrincipal()],
            actions=list(KEY_ADMINISTRATION_ACTIONS),
            resources=["*"],  # in a key policy "*" means this key
        )
        self.key = kms.Key(
            self,
            "Key",
            alias=f"alias/tollgate/{config.stage}/provider-keys",
            description="Tollgate: wraps provider API keys and alert channel secrets (aws-encryption-sdk)",
            enable_key_rotation=True,
            policy=iam.PolicyDocument(statements=[administration]),
            pending_window=Duration.days(30 if config.retain_data_on_delete else 7),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data_on_delete else RemovalPolicy.DESTROY,
        )

    def allow_key_use(self, role: iam.IRole, key_use: KeyUse, function_name: str) -> None:
        """Let `role` use the key for `key_use`, in both the key policy and the role's own policy."""
        if key_use is KeyUse.NONE:
            return
        actions = list(key_use.actions)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"{function_name}{key_use.name.title().replace('_', '')}",
                principals=[role],
                actions=actions,
                resources=["*"],
            )
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=actions, resources=[self.key.key_arn]))


class RootKeySecret(Construct):
    """The root key (`tg_<12 lowercase alnum>_<32 alnum>`) in Secrets Manager.

    Secrets Manager's generator cannot produce that shape, so the secret starts with a throwaway generated
    value and a small custom resource (inline Python, no dependencies) overwrites it once, on create, with a
    key of the right shape drawn from `secrets`. The value never passes through CloudFormation.
    """

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.secret_name = f"tollgate/{config.stage}/root-key"
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=self.secret_name,
            description="Tollgate root key: manages workspaces and global pricing (Bearer tg_...)",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=44),
            removal_policy=RemovalPolicy.RETAIN if config.retain_data_on_delete else RemovalPolicy.DESTROY,
        )
        initializer = lambda_.Function(
            self,
            "Initializer",
            description="Writes a tg_<public>_<secret> root key into the root key secret on create",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_inline(ROOT_KEY_INITIALIZER_CODE.read_text()),
            timeout=Duration.seconds(30),
            log_group=stage_log_group(self, "InitializerLogs", config),
        )
        self.secret.grant_write(initializer)
        CustomResource(
            self,
            "Initialize",
            service_token=initializer.function_arn,
            resource_type="Custom::TollgateRootKey",
            properties={"SecretArn": self.secret.secret_arn},
        )
