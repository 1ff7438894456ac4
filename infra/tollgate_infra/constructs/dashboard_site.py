"""The dashboard as a static site: a private S3 bucket behind CloudFront with origin access control.

Self-contained so the app stack only has to add one line::

    DashboardSite(self, "Dashboard", site_dir=str(tollgate.ui.assets.STATIC_DIR), api_url=http_api.api_endpoint)

The bucket is private (all public access blocked, TLS enforced, SSE-S3, versioned); only this
distribution can read it (OAC, SigV4). The page calls the API at ``api_url``, which it reads from
a ``config.json`` generated next to ``index.html``; the CSP allows exactly that origin. The API
must allow the distribution's origin in its CORS settings (the app stack wires that).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_cdk import CfnOutput, Duration, RemovalPolicy, Token
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

CSP_TEMPLATE = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' {api}; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def api_origin(api_url: str) -> str:
    """The scheme and host of the API for connect-src (a CDK token is used as it is)."""
    if Token.is_unresolved(api_url):
        return api_url
    parts = urlsplit(api_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ValueError(f"api_url must be an https URL, got {api_url!r}")
    return f"{parts.scheme}://{parts.netloc}"


class DashboardSite(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        site_dir: str,
        api_url: str,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            removal_policy=removal_policy,
            auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
        )
        self.headers = cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="Tollgate dashboard: strict CSP, no framing, no referrer, HSTS",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=CSP_TEMPLATE.format(api=api_origin(api_url)), override=True
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(730), include_subdomains=True, override=True
                ),
            ),
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Tollgate dashboard",
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self.headers,
                compress=True,
            ),
        )
        self.deployment = s3deploy.BucketDeployment(
            self,
            "Deploy",
            sources=[
                s3deploy.Source.asset(site_dir, exclude=["config.json", "**/__pycache__", "**/.*"]),
                s3deploy.Source.json_data("config.json", {"api_url": api_url}),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            memory_limit=256,
        )
        self.url = f"https://{self.distribution.distribution_domain_name}"
        CfnOutput(self, "DashboardUrl", value=self.url, description="Tollgate dashboard (sign in with an admin key)")
