"""Deployment settings: one typed `StageConfig` per stage, overridable through CDK context.

Every setting has a default for `dev` and `prod` below; a `-c tollgate:<key>=<value>` on the command line
(or the same key in cdk.json) overrides it for the selected stage. Context values given on the command line
arrive as strings, so the readers below accept "true"/"1"/"yes" and digit strings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTEXT_PREFIX = "tollgate:"
DEFAULT_LITELLM_URL = "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
DEFAULT_OPENROUTER_URL = "https://openrouter.ai/api/v1/models"


class LayerBundling(StrEnum):
    """How the runtime dependency layer is built at synth time."""

    AUTO = "auto"  # layers/build.py on this machine (no Docker); Docker image if that fails
    DOCKER = "docker"  # always build inside the SAM build image
    SKIP = "skip"  # tests only: package requirements.txt as-is, never deploy such a synth


class ContextSource(Protocol):
    """What the config needs from a construct node (lets tests pass a plain dict-backed fake)."""

    def try_get_context(self, key: str) -> Any: ...


@dataclass(frozen=True)
class StageConfig:
    stage: str
    account: str | None = None
    region: str | None = None
    # network
    max_azs: int = 2
    nat_gateways: int = 1
    # data
    database_instance_type: str = "t4g.micro"
    database_allocated_storage_gb: int = 20
    database_max_allocated_storage_gb: int = 100
    database_multi_az: bool = False
    database_backup_retention_days: int = 7
    deletion_protection: bool = False
    retain_data_on_delete: bool = False  # keep KMS key and a final DB snapshot when the stack is deleted
    database_secret_rotation_days: int | None = None
    # functions and API
    reserve_concurrency: bool = False
    # Warm execute environments on the `live` alias (0: none). SnapStart is not used: see docs/deploy.md.
    execute_provisioned_concurrency: int = 0
    # AWS Lambda Web Adapter layer version (arn:aws:lambda:<region>:753240598075:layer:LambdaAdapterLayer<arch>:N)
    lwa_layer_version: int = 28
    api_throttle_rate: int = 50
    api_throttle_burst: int = 100
    log_retention_days: int = 14
    log_level: str = "INFO"
    # scheduling
    pricing_refresh_hours: int = 4
    sweeper_interval_minutes: int = 5
    # alerts and alarms
    ses_from_address: str | None = None
    alarm_email: str | None = None
    server_error_rate_percent: float = 5.0
    function_error_threshold: int = 1
    # pricing feeds
    pricing_litellm_url: str = DEFAULT_LITELLM_URL
    pricing_openrouter_url: str = DEFAULT_OPENROUTER_URL
    # dashboard: static site on S3 + CloudFront calling this stage's API (CORS allows only its origin)
    dashboard: bool = True
    # build
    layer_bundling: LayerBundling = LayerBundling.AUTO
    source_root: Path = REPO_ROOT
    migration_nonce: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def stack_name(self) -> str:
        return f"Tollgate-{self.stage}"

    @property
    def pricing_stale_after_seconds(self) -> int:
        """One missed refresh (plus an hour of grace) makes prices stale: the alarm and /health agree."""
        return (self.pricing_refresh_hours + 1) * 3600

    def validate(self) -> StageConfig:
        if self.nat_gateways < 1:
            raise ValueError("tollgate:natGateways must be >= 1: functions call AI providers on the internet")
        if self.nat_gateways > self.max_azs:
            raise ValueError(f"tollgate:natGateways ({self.nat_gateways}) cannot exceed maxAzs ({self.max_azs})")
        if self.pricing_refresh_hours < 1:
            raise ValueError("tollgate:pricingRefreshHours must be >= 1")
        if self.ses_from_address is not None and "@" not in self.ses_from_address:
            raise ValueError(f"tollgate:sesFromAddress is not an email address: {self.ses_from_address!r}")
        return self


STAGE_DEFAULTS: dict[str, StageConfig] = {
    "dev": StageConfig(stage="dev"),
    "prod": StageConfig(
        stage="prod",
        nat_gateways=2,
        database_instance_type="t4g.small",
        database_allocated_storage_gb=50,
        database_max_allocated_storage_gb=500,
        database_multi_az=True,
        database_backup_retention_days=30,
        deletion_protection=True,
        retain_data_on_delete=True,
        database_secret_rotation_days=30,
        reserve_concurrency=True,
        execute_provisioned_concurrency=2,
        api_throttle_rate=500,
        api_throttle_burst=1000,
        log_retention_days=90,
        server_error_rate_percent=1.0,
        function_error_threshold=5,
    ),
}

# context key (after "tollgate:") -> (StageConfig field, parser)
_OVERRIDES: dict[str, tuple[str, Any]] = {
    "account": ("account", str),
    "region": ("region", str),
    "maxAzs": ("max_azs", int),
    "natGateways": ("nat_gateways", int),
    "databaseInstanceType": ("database_instance_type", str),
    "databaseMultiAz": ("database_multi_az", "bool"),
    "deletionProtection": ("deletion_protection", "bool"),
    "retainDataOnDelete": ("retain_data_on_delete", "bool"),
    "reserveConcurrency": ("reserve_concurrency", "bool"),
    "executeProvisionedConcurrency": ("execute_provisioned_concurrency", int),
    "lwaLayerVersion": ("lwa_layer_version", int),
    "apiThrottleRate": ("api_throttle_rate", int),
    "apiThrottleBurst": ("api_throttle_burst", int),
    "logRetentionDays": ("log_retention_days", int),
    "logLevel": ("log_level", str),
    "pricingRefreshHours": ("pricing_refresh_hours", int),
    "sesFromAddress": ("ses_from_address", str),
    "alarmEmail": ("alarm_email", str),
    "pricingLitellmUrl": ("pricing_litellm_url", str),
    "pricingOpenrouterUrl": ("pricing_openrouter_url", str),
    "dashboard": ("dashboard", "bool"),
    "layerBundling": ("layer_bundling", LayerBundling),
    "sourceRoot": ("source_root", Path),
    "migrationNonce": ("migration_nonce", str),
}


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _parse(value: Any, parser: Any) -> Any:
    if parser == "bool":
        return parse_bool(value)
    return parser(value)


def load_stage_config(node: ContextSource, stage: str | None = None) -> StageConfig:
    """Build the config for `stage` (default: context `tollgate:stage`, else "dev") from defaults + context."""
    stage = stage or node.try_get_context(f"{CONTEXT_PREFIX}stage") or "dev"
    if stage not in STAGE_DEFAULTS:
        raise ValueError(f"unknown stage {stage!r}; expected one of {sorted(STAGE_DEFAULTS)}")
    overrides: dict[str, Any] = {
        "account": os.environ.get("CDK_DEFAULT_ACCOUNT"),
        "region": os.environ.get("CDK_DEFAULT_REGION"),
    }
    for key, (attribute, parser) in _OVERRIDES.items():
        value = node.try_get_context(f"{CONTEXT_PREFIX}{key}")
        if value is not None and value != "":
            overrides[attribute] = _parse(value, parser)
    if parse_bool(node.try_get_context(f"{CONTEXT_PREFIX}skipLayerBundling") or False):
        overrides["layer_bundling"] = LayerBundling.SKIP
    tags = node.try_get_context(f"{CONTEXT_PREFIX}tags") or {}
    overrides["tags"] = {str(key): str(value) for key, value in dict(tags).items()}
    return replace(STAGE_DEFAULTS[stage], **overrides).validate()
