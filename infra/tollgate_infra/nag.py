"""cdk-nag (AwsSolutions) suppressions, all in one place: each names the finding it accepts and why.

Everything not listed here must pass; tests/infra assert that no unsuppressed error or warning remains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aws_cdk import Stack
from cdk_nag import NagPackSuppression, NagSuppressions, RegexAppliesTo
from constructs import IConstruct

from tollgate_infra.config import StageConfig
from tollgate_infra.constructs.dashboard_site import DashboardSite

LAMBDA_MANAGED_POLICIES: list[str | RegexAppliesTo] = [
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
]


@dataclass(frozen=True)
class NagTargets:
    """The constructs whose findings are accepted (the stack passes what it built)."""

    api: IConstruct
    streaming_api: IConstruct
    database_instance: IConstruct
    database_secret: IConstruct
    root_key_secret: IConstruct
    function_policies: Iterable[IConstruct]
    migration_provider: IConstruct
    dashboard: DashboardSite | None = None


def suppress_findings(stack: Stack, config: StageConfig, targets: NagTargets) -> None:
    NagSuppressions.add_stack_suppressions(
        stack,
        [
            _suppress(
                "AwsSolutions-L1",
                "Python 3.12 is the runtime Tollgate targets; the layers are built for cp312, so "
                "moving to a newer runtime is a deliberate upgrade of layers/build.py and the functions together. "
                "The provider framework's runtime is chosen by aws-cdk-lib.",
            ),
            _suppress(
                "AwsSolutions-IAM4",
                "AWSLambdaBasicExecutionRole (write the function's own logs) and AWSLambdaVPCAccessExecutionRole "
                "(create/delete the ENIs a VPC function needs; EC2 offers no resource-level scoping for them) are "
                "the AWS-maintained minimum for Lambda.",
                applies_to=LAMBDA_MANAGED_POLICIES,
            ),
        ],
    )
    for api in (targets.api, targets.streaming_api):
        NagSuppressions.add_resource_suppressions(
            api,
            [
                _suppress(
                    "AwsSolutions-APIG4",
                    "No API Gateway authorizer by design: the functions authenticate every request themselves with "
                    "gateway keys (Authorization: Bearer tg_... or x-api-key, hashed in the database, revocation "
                    "effective within 5 s) in the same code the local server runs. Only GET /health and "
                    "GET /openapi.json are public.",
                ),
                _suppress(
                    "AwsSolutions-COG4",
                    "No Cognito user pool: callers are programs holding gateway keys, checked by the functions.",
                ),
            ],
            apply_to_children=True,
        )
    _suppress_streaming_api(targets.streaming_api)
    for policy in targets.function_policies:
        NagSuppressions.add_resource_suppressions(
            policy,
            [
                _suppress(
                    "AwsSolutions-IAM5",
                    "X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level "
                    "permissions; every other statement names its resource.",
                    applies_to=["Resource::*"],
                )
            ],
        )
    NagSuppressions.add_resource_suppressions(
        targets.migration_provider,
        [
            _suppress(
                "AwsSolutions-IAM5",
                "The CDK provider framework may invoke any version/alias of the migrate function ('<arn>:*').",
                applies_to=["Resource::<MigrateFunctionE2483A46.Arn>:*"],
            )
        ],
        apply_to_children=True,
    )
    NagSuppressions.add_resource_suppressions(
        targets.database_instance,
        [
            _suppress(
                "AwsSolutions-RDS11",
                "PostgreSQL keeps its default port: the instance is in isolated subnets and its security group "
                "admits only RDS Proxy, so a non-standard port would add nothing but client configuration.",
            )
        ],
    )
    if not config.database_multi_az:
        NagSuppressions.add_resource_suppressions(
            targets.database_instance,
            [_suppress("AwsSolutions-RDS3", f"Single-AZ in stage {config.stage} halves idle cost; prod is Multi-AZ.")],
        )
    if not config.deletion_protection:
        NagSuppressions.add_resource_suppressions(
            targets.database_instance,
            [
                _suppress(
                    "AwsSolutions-RDS10",
                    f"Deletion protection is off in stage {config.stage} so `cdk destroy` can remove a throwaway "
                    "environment; prod enables it (tollgate:deletionProtection).",
                )
            ],
        )
    if not config.database_secret_rotation_days:
        NagSuppressions.add_resource_suppressions(
            targets.database_secret,
            [
                _suppress(
                    "AwsSolutions-SMG4",
                    f"Stage {config.stage} does not rotate the database password (rotation adds a Lambda and a "
                    "SAR application); prod rotates it every 30 days.",
                )
            ],
        )
    NagSuppressions.add_resource_suppressions(
        targets.root_key_secret,
        [
            _suppress(
                "AwsSolutions-SMG4",
                "The root key is an API credential an operator holds, not a password a service can rotate "
                "unattended; docs/deploy.md explains how to rotate it by hand (put-secret-value).",
            )
        ],
    )
    if targets.dashboard:
        _suppress_dashboard(stack, targets.dashboard)


def _suppress_streaming_api(api: IConstruct) -> None:
    """The execute REST API (response streaming)."""
    NagSuppressions.add_resource_suppressions(
        api,
        [
            _suppress(
                "AwsSolutions-APIG2",
                "The request body is validated by the function (pydantic models, the documented error shape); an "
                "API Gateway model would be a second, drifting copy of the OpenAI request schema.",
            ),
            _suppress(
                "AwsSolutions-APIG3",
                "No WAF web ACL by default: every request needs a gateway key checked by the function and the "
                "stage is throttled; a web ACL costs more than small stages earn. Attach one per stage if needed.",
            ),
            _suppress(
                "AwsSolutions-IAM4",
                "API Gateway's account-level CloudWatch role uses the AWS-managed "
                "AmazonAPIGatewayPushToCloudWatchLogs policy, the documented minimum for execution/access logs.",
                applies_to=[
                    "Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"
                ],
            ),
        ],
        apply_to_children=True,
    )


def _suppress_dashboard(stack: Stack, site: DashboardSite) -> None:
    """The dashboard's bucket, distribution and the BucketDeployment handler (fixed: TLS-only bucket policy,
    all public access blocked, OAC, HTTPS redirect, default root object, security headers)."""
    NagSuppressions.add_resource_suppressions(
        site.bucket,
        [
            _suppress(
                "AwsSolutions-S1",
                "The dashboard bucket holds only the public static page (no data, no secrets). Its sole writer is "
                "the deployment (recorded by CloudTrail) and its sole reader CloudFront through OAC, so server "
                "access logs would only repeat the deploys; every data access goes through the API, whose JSON "
                "access logs record request id, source IP and user agent.",
            )
        ],
    )
    NagSuppressions.add_resource_suppressions(
        site.distribution,
        [
            _suppress(
                "AwsSolutions-CFR1",
                "Operators may sign in from anywhere; the page is static code and every call it makes is "
                "authenticated by the API with a gateway key, so geo restriction would protect nothing.",
            ),
            _suppress(
                "AwsSolutions-CFR2",
                "The distribution serves only static GET/HEAD files from S3 (no origin compute to protect); a "
                "CloudFront web ACL lives in us-east-1 and costs more than the site. The API, not the page, is "
                "throttled per stage.",
            ),
            _suppress(
                "AwsSolutions-CFR3",
                "Viewer logs would record downloads of the public static page only; the API's access logs record "
                "every request the dashboard makes (and the API is where keys are checked).",
            ),
            _suppress(
                "AwsSolutions-CFR4",
                "The distribution uses the default *.cloudfront.net certificate, for which CloudFront fixes the "
                "security policy (a minimum protocol version can only be set with a custom domain and ACM "
                "certificate, not part of this stack); current browsers negotiate TLS 1.2 or 1.3.",
            ),
        ],
    )
    bucket_id = stack.resolve(stack.get_logical_id(site.bucket.node.default_child))  # type: ignore[arg-type]
    NagSuppressions.add_resource_suppressions(
        site.deployment.handler_role,
        [
            _suppress(
                "AwsSolutions-IAM5",
                "The aws-cdk-lib BucketDeployment handler: reads the staged asset zips from the CDK bootstrap "
                "asset bucket, syncs them into the dashboard bucket (object-level actions on <bucket>/*, "
                "including deletes of stale files) and invalidates the distribution (CloudFront invalidation "
                "actions are granted on '*' by CDK). All grants come from grantRead/grantReadWrite.",
                applies_to=[
                    "Action::s3:GetBucket*",
                    "Action::s3:GetObject*",
                    "Action::s3:List*",
                    "Action::s3:Abort*",
                    "Action::s3:DeleteObject*",
                    f"Resource::<{bucket_id}.Arn>/*",
                    RegexAppliesTo(
                        # tokens in an environment-agnostic synth; literal values when the CLI resolves them
                        regex=r"/^Resource::arn:(<AWS::Partition>|aws[a-z-]*):s3:::cdk-[a-z0-9]+-assets-"
                        r"(<AWS::AccountId>|[0-9]{12})-(<AWS::Region>|[a-z0-9-]+)\/\*$/g"
                    ),
                    "Resource::*",
                ],
            )
        ],
        apply_to_children=True,
    )


def _suppress(rule: str, reason: str, applies_to: list[str | RegexAppliesTo] | None = None) -> NagPackSuppression:
    return NagPackSuppression(id=rule, reason=reason, applies_to=applies_to)
