"""All settings in one place, read from TOLLGATE_* environment variables (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_HOME = Path.home() / ".tollgate"
LAMBDA_EXPORT_MAX_BYTES = 5_000_000


class Settings(BaseSettings):
    """Gateway configuration. Nothing else in the package reads ``os.environ``."""

    model_config = SettingsConfigDict(env_prefix="TOLLGATE_", extra="ignore")

    stage: str = "local"
    home: Path = DEFAULT_HOME
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite under home")
    database_secret_arn: str | None = None
    database_host: str | None = None
    database_name: str | None = None
    db_pool_size: int = 10
    # None: twice db_pool_size. Lambda: 1 connection per container, 0 overflow (the container serves one
    # request at a time; reserved concurrency x 1 must fit the proxy's connections, docs/deploy.md).
    db_max_overflow: int | None = None
    db_pool_timeout_s: float = Field(default=30.0, gt=0)
    db_pool_recycle_s: int = 300
    # False behind RDS Proxy: server-side prepared statements pin proxy sessions.
    db_server_prepare: bool = True
    # How long a secret read from Secrets Manager (database credentials, root key) is trusted.
    secret_max_age_s: int = Field(default=300, ge=1)

    root_key: str | None = None
    root_key_secret_arn: str | None = None

    key_backend: Literal["local", "kms"] = "local"
    kms_key_arn: str | None = None
    master_key: str | None = Field(default=None, description="base64 256-bit local master key (last resort)")

    alert_backend: Literal["inprocess", "sqs"] = "inprocess"
    alert_queue_url: str | None = None
    # Operators' SNS topic (events about the gateway itself, e.g. a rejected price feed); unset: logged.
    operator_topic_arn: str | None = None
    ses_from_address: str | None = None
    alert_cooldown_s: float = 3600.0
    alert_worker_interval_s: float = 2.0
    alert_delivery_attempts: int = 3
    budget_cache_ttl_s: float = Field(default=2.0, le=5.0, description="active budget list cache per workspace")

    allow_local_network: bool = False
    max_body_bytes: int = 1_048_576
    key_cache_ttl_s: float = 5.0
    last_used_resolution_s: float = 60.0

    upstream_connect_timeout_s: float = 5.0
    upstream_read_timeout_s: float = 120.0
    upstream_max_connections: int = 1024
    retry_max_attempts: int = 3
    retry_max_wait_s: float = 10.0
    retry_base_wait_s: float = 1.0
    cooldown_s: float = 300.0
    health_cache_ttl_s: float = 1.0
    model_equivalents: dict[str, list[str]] = Field(
        default_factory=dict,
        description='JSON: "provider/model" -> equivalent "provider/model" ids used for cross-provider failover',
    )

    pricing_litellm_url: str = (
        "https://raw.githubusercontent.com/BerriAI/litellm/main/model_prices_and_context_window.json"
    )
    pricing_openrouter_url: str = "https://openrouter.ai/api/v1/models"
    pricing_stale_after_s: int = 4 * 3600
    # Exchange rates for display currencies: the ECB's daily reference rates (EUR based, business days).
    fx_url: str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    fx_stale_after_s: int = 4 * 86400  # a long weekend without a new ECB publication is not stale
    pricing_refresh_interval_s: int = 4 * 3600
    pricing_max_feed_bytes: int = 32 * 1024 * 1024
    pricing_seed_snapshot: bool = Field(default=True, description="seed the packaged price snapshot on first start")

    reservation_ttl_s: int = 900
    # The longest one execute call may run (retries, failover, upstream read, stream); on Lambda the
    # invocation's remaining time minus deadline_margin_s when that is earlier. Must stay below
    # reservation_ttl_s so the sweeper never settles a reservation whose call is still running.
    call_deadline_s: float = Field(default=840.0, gt=0)
    deadline_margin_s: float = Field(default=3.0, ge=0)
    # A stream the client left is read on (not relayed) to the provider's final usage for at most this
    # long, never past the call's deadline; then it is charged its reserved worst case (docs/pricing.md).
    cancelled_stream_read_s: float = Field(default=120.0, ge=0)
    sweeper_interval_s: int = 300
    credential_probe_interval_s: float = 30.0  # re-check cooled-down credentials (local timer)
    unpriced_policy: Literal["block_unpriced", "estimate"] = "block_unpriced"

    export_max_bytes: int | None = Field(
        default=None, gt=0, description="cap on one usage export response; on Lambda 5 MB unless set"
    )
    lambda_function_name: str | None = Field(default=None, validation_alias="AWS_LAMBDA_FUNCTION_NAME")

    def usage_export_cap(self) -> int | None:
        """API Gateway + Lambda buffer the whole response and refuse more than 6 MB."""
        if self.export_max_bytes is not None:
            return self.export_max_bytes
        return LAMBDA_EXPORT_MAX_BYTES if self.lambda_function_name else None

    def resolved_database_url(self) -> str:
        """The database URL to use locally; AWS deployments resolve theirs in ``wiring``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home / 'tollgate.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
