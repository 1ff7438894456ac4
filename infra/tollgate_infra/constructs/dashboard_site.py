"""The dashboard as a static site: a private S3 bucket behind CloudFront with origin access control.

Self-contained: the app stack (tollgate_infra.stack) adds it with::

    DashboardSite(self, "Dashboard", site_dir=..., api_url=api.url, connect_src=API_GATEWAY_ORIGINS)

and declares the `DashboardUrl` output from `site.url`.

The bucket is private (all public access blocked, TLS enforced, SSE-S3, versioned); only this
distribution can read it (OAC, SigV4). The page calls the API at ``api_url``, which it reads from
a ``config.json`` generated next to ``index.html``; the CSP's connect-src is that origin, or
``connect_src`` when given. The API must allow the distribution's origin in its CORS settings (the
app stack wires that).

Dependencies: the distribution (through the CSP) references ``api_url`` unless ``connect_src`` is
given; ``config.json`` is a deploy-time ``Source.json_data``, so only the deployment custom resource
references the API. An API whose CORS names this distribution must therefore pass a ``connect_src``
that is not a token of that API, or CloudFormation sees a cycle.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_cdk import Duration, RemovalPolicy, Token
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
        connect_src: str | None = None,
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
                    content_security_policy=CSP_TEMPLATE.format(api=connect_src or api_origin(api_url)),
                    override=True,
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
        self.origin = f"https://{self.distribution.distribution_domain_name}"
        self.url = f"{self.origin}/"
