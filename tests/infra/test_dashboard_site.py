"""The dashboard site construct: private encrypted bucket, CloudFront with OAC, strict headers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support import REPO
from tollgate.ui.assets import STATIC_DIR

cdk = pytest.importorskip("aws_cdk", reason="aws-cdk-lib is not installed (pip install aws-cdk-lib constructs)")
from aws_cdk.assertions import Match, Template  # noqa: E402

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com"


def load_construct() -> ModuleType:
    # infra/ is a CDK app, not an installed package: load the module from its file.
    path = REPO / "infra" / "tollgate_infra" / "constructs" / "dashboard_site.py"
    spec = importlib.util.spec_from_file_location("dashboard_site_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Path]:
    module = load_construct()
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = cdk.App(outdir=str(outdir))
    stack = cdk.Stack(app, "DashboardTest", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    module.DashboardSite(stack, "Dashboard", site_dir=str(STATIC_DIR), api_url=API_URL)
    template = Template.from_stack(stack)
    app.synth()
    return template, outdir


def test_bucket_is_private_encrypted_versioned(synth: tuple[Template, Path]) -> None:
    template, _ = synth
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        },
    )
    template.has_resource("AWS::S3::Bucket", {"DeletionPolicy": "Retain"})


def statements(template: Template) -> list[dict[str, Any]]:
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 1
    (policy,) = policies.values()
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_bucket_policy_enforces_tls_and_only_cloudfront_reads(synth: tuple[Template, Path]) -> None:
    template, _ = synth
    found = statements(template)
    deny_http = [s for s in found if s["Effect"] == "Deny"]
    assert deny_http and deny_http[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    allows = [s for s in found if s["Effect"] == "Allow"]
    assert allows, "CloudFront must be allowed to read"
    for statement in allows:
        assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
        assert "AWS:SourceArn" in statement["Condition"]["StringEquals"]
    assert not any(s.get("Principal") == "*" and s["Effect"] == "Allow" for s in found)


def test_distribution_uses_origin_access_control(synth: tuple[Template, Path]) -> None:
    template, _ = synth
    template.has_resource_properties(
        "AWS::CloudFront::OriginAccessControl",
        {
            "OriginAccessControlConfig": Match.object_like(
                {"OriginAccessControlOriginType": "s3", "SigningBehavior": "always", "SigningProtocol": "sigv4"}
            )
        },
    )
    template.has_resource_properties(
        "AWS::CloudFront::Distribution",
        {
            "DistributionConfig": Match.object_like(
                {
                    "DefaultRootObject": "index.html",
                    "DefaultCacheBehavior": Match.object_like(
                        {
                            "ViewerProtocolPolicy": "redirect-to-https",
                            "ResponseHeadersPolicyId": Match.any_value(),
                            "AllowedMethods": ["GET", "HEAD"],
                        }
                    ),
                    "Origins": [Match.object_like({"OriginAccessControlId": Match.any_value()})],
                }
            )
        },
    )
    distribution = next(iter(template.find_resources("AWS::CloudFront::Distribution").values()))
    origin = distribution["Properties"]["DistributionConfig"]["Origins"][0]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # OAC, not the legacy OAI


def test_security_headers_policy_has_a_strict_csp(synth: tuple[Template, Path]) -> None:
    template, _ = synth
    policy = next(iter(template.find_resources("AWS::CloudFront::ResponseHeadersPolicy").values()))
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    csp = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]
    assert "default-src 'self'" in csp
    assert f"connect-src 'self' {API_URL};" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"
    assert headers["ContentTypeOptions"]["Override"] is True
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31_536_000


def test_deployment_ships_the_static_folder_and_a_generated_config(synth: tuple[Template, Path]) -> None:
    template, outdir = synth
    deployment = next(iter(template.find_resources("Custom::CDKBucketDeployment").values()))
    props = deployment["Properties"]
    assert len(props["SourceObjectKeys"]) == 2
    assert props["DistributionPaths"] == ["/*"]
    # The generated config.json carries the API URL; the static asset carries index.html.
    configs = [p for p in outdir.rglob("config.json") if p.parent.name.startswith("asset.")]
    assert any(json.loads(p.read_text()) == {"api_url": API_URL} for p in configs)
    assert any((p / "index.html").is_file() and (p / "app.js").is_file() for p in outdir.glob("asset.*"))


def test_api_url_must_be_https() -> None:
    module = load_construct()
    assert module.api_origin("https://x.example.com/prod/") == "https://x.example.com"
    with pytest.raises(ValueError, match="https"):
        module.api_origin("http://x.example.com")
