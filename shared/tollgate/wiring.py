"""The one place that chooses implementations: local or AWS, real or fake.

``Services`` builds each component lazily on first use, so a Lambda function pays only for what
it touches and nothing does I/O at import time. Tests build ``Services`` with their own settings
and override components by passing them in ``overrides``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue, InProcessAlertQueue
from tollgate.budgets.guard import BudgetGuard
from tollgate.clock import Clock, SystemClock
from tollgate.config import Settings, get_settings
from tollgate.db.engine import create_db_engine, create_session_factory
from tollgate.execution.blocking import BlockingPool
from tollgate.execution.resolver import CredentialSource, ModelResolver
from tollgate.execution.service import ExecuteService
from tollgate.keys.auth import Authenticator
from tollgate.keys.credential_source import DbCredentialSource
from tollgate.keys.credentials import CredentialService
from tollgate.keys.limits import KeyLimiter
from tollgate.keys.service import GatewayKeyService, WorkspaceService
from tollgate.keys.wrapping import KeyWrapper
from tollgate.pricing.book import PriceBook
from tollgate.providers.invoker import ProviderInvoker, RetryPolicy
from tollgate.providers.registry import ProviderRegistry
from tollgate.usage.service import UsageService

if TYPE_CHECKING:
    import httpx

    from tollgate.alerts.delivery import AlertDelivery, Mailer
    from tollgate.alerts.service import AlertChannelService
    from tollgate.alerts.worker import LocalAlertWorker
    from tollgate.budgets.outbox import AlertOutbox
    from tollgate.budgets.reservations import ReservingBudgetGuard
    from tollgate.budgets.service import BudgetService
    from tollgate.budgets.sweeper import ReservationSweeper
    from tollgate.execution.gate import PolicyGate
    from tollgate.guardrails.service import GuardrailService
    from tollgate.pricing.fx import FxRefresher, FxService
    from tollgate.pricing.refresh import PriceRefresher
    from tollgate.providers.events import ProviderEvents
    from tollgate.providers.http import UpstreamHttp
    from tollgate.providers.probe import CredentialProber
    from tollgate.routing.cache import CachedRules
    from tollgate.routing.planner import RoutingPlanner
    from tollgate.routing.service import RoutingRuleService


class Services:
    def __init__(self, settings: Settings, **overrides: Any) -> None:
        self.settings = settings
        for name, value in overrides.items():
            setattr(self, name, value)  # pre-fills the cached_property slot

    @cached_property
    def clock(self) -> Clock:
        return SystemClock()

    @cached_property
    def database_url(self) -> str:
        settings = self.settings
        if settings.database_secret_arn and not settings.database_url:
            from tollgate.aws.secrets import database_url_from_secret

            return database_url_from_secret(
                settings.database_secret_arn, host=settings.database_host, name=settings.database_name
            )
        return settings.resolved_database_url()

    @cached_property
    def root_key(self) -> str | Callable[[bool], str | None] | None:
        """The root key, or on AWS a reader of its secret (cached ``secret_max_age_s``; ``True``
        re-reads it now, throttled) so a rotated root key works without recycling containers."""
        if self.settings.root_key_secret_arn and not self.settings.root_key:
            from tollgate.aws.rotating_secret import RotatingSecret

            secret = RotatingSecret(self.settings.root_key_secret_arn, max_age_s=self.settings.secret_max_age_s)
            return lambda refresh: secret.value(refresh=refresh)
        return self.settings.root_key

    @cached_property
    def engine(self) -> Engine:
        settings = self.settings
        engine = create_db_engine(
            self.database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout_s=settings.db_pool_timeout_s,
            pool_recycle_s=settings.db_pool_recycle_s,
            server_prepare=settings.db_server_prepare,
        )
        if settings.database_secret_arn and not settings.database_url:
            from tollgate.aws.db_auth import install_rotating_credentials
            from tollgate.aws.rotating_secret import RotatingSecret

            install_rotating_credentials(
                engine, RotatingSecret(settings.database_secret_arn, max_age_s=settings.secret_max_age_s)
            )
        return engine

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        return create_session_factory(self.engine)

    @cached_property
    def authenticator(self) -> Authenticator:
        return Authenticator(
            self.sessions,
            self.clock,
            root_key=self.root_key,
            cache_ttl_s=self.settings.key_cache_ttl_s,
            last_used_resolution_s=self.settings.last_used_resolution_s,
        )

    @cached_property
    def workspaces(self) -> WorkspaceService:
        return WorkspaceService(self.sessions)

    @cached_property
    def gateway_keys(self) -> GatewayKeyService:
        return GatewayKeyService(self.sessions, self.clock, self.authenticator, on_change=self.key_limiter.forget)

    @cached_property
    def key_limiter(self) -> KeyLimiter:
        return KeyLimiter(self.sessions, self.clock, cache_ttl_s=self.settings.key_cache_ttl_s)

    @cached_property
    def key_wrapper(self) -> KeyWrapper:
        from tollgate.key_backend import build_key_wrapper

        return build_key_wrapper(self.settings)

    @cached_property
    def alert_queue(self) -> AlertQueue:
        if self.settings.alert_backend == "sqs":
            if not self.settings.alert_queue_url:
                raise RuntimeError("TOLLGATE_ALERT_QUEUE_URL is required when TOLLGATE_ALERT_BACKEND=sqs")
            from tollgate.aws.sqs_queue import SqsAlertQueue

            return SqsAlertQueue(self.settings.alert_queue_url)
        return InProcessAlertQueue()

    @cached_property
    def operator_events(self) -> AlertQueue:
        """Where events about the gateway itself go: the operators' SNS topic on AWS, the log locally."""
        from tollgate.alerts.routing import LoggedOperatorEvents
        from tollgate.aws.sns_topic import SnsOperatorTopic

        if self.settings.operator_topic_arn:
            return SnsOperatorTopic(self.settings.operator_topic_arn)
        return LoggedOperatorEvents()

    @cached_property
    def mailer(self) -> Mailer:
        if self.settings.ses_from_address:
            from tollgate.aws.ses_mailer import SesMailer

            return SesMailer(self.settings.ses_from_address)
        from tollgate.alerts.delivery import NoMailer

        return NoMailer()

    @cached_property
    def alert_http(self) -> httpx.Client:
        import httpx

        return httpx.Client(timeout=httpx.Timeout(10.0, connect=5.0), follow_redirects=False)

    @cached_property
    def alert_outbox(self) -> AlertOutbox:
        from tollgate.budgets.outbox import AlertOutbox

        return AlertOutbox(self.sessions, self.alert_queue, self.clock)

    @cached_property
    def alert_delivery(self) -> AlertDelivery:
        from tollgate.alerts.delivery import AlertDelivery

        return AlertDelivery(
            self.sessions,
            self.key_wrapper,
            self.clock,
            self.mailer,
            self.alert_http,
            allow_local=self.settings.allow_local_network,
            cooldown_s=self.settings.alert_cooldown_s,
            attempts=self.settings.alert_delivery_attempts,
        )

    @cached_property
    def alert_channels(self) -> AlertChannelService:
        from tollgate.alerts.service import AlertChannelService

        return AlertChannelService(
            self.sessions,
            self.key_wrapper,
            self.clock,
            self.alert_delivery,
            allow_local=self.settings.allow_local_network,
        )

    @cached_property
    def alert_worker(self) -> LocalAlertWorker | None:
        """Drains the in-process queue locally; None when alerts go to SQS."""
        from tollgate.alerts.worker import LocalAlertWorker

        queue = self.alert_queue
        return LocalAlertWorker(queue, self.alert_delivery) if isinstance(queue, InProcessAlertQueue) else None

    @cached_property
    def http_client(self) -> UpstreamHttp:
        """The upstream transport of this process: one pooled ``aiohttp.ClientSession`` per event loop."""
        from tollgate.providers.http import build_http_client

        settings = self.settings
        return build_http_client(
            settings.upstream_connect_timeout_s,
            settings.upstream_read_timeout_s,
            settings.upstream_max_connections,
            allow_local_network=settings.allow_local_network,
        )

    @cached_property
    def sleep(self) -> Callable[[float], Awaitable[None]]:
        """How retries and pacing wait, awaited on the event loop (tests inject a recorder)."""
        return asyncio.sleep

    @cached_property
    def blocking(self) -> BlockingPool:
        """The bounded thread pool for the execute path's short database steps (never a provider wait)."""
        return BlockingPool(max(2, self.settings.db_pool_size))

    @cached_property
    def providers(self) -> ProviderRegistry:
        from tollgate.providers.adapters import build_adapters

        return ProviderRegistry(build_adapters(self.http_client))

    @cached_property
    def invoker(self) -> ProviderInvoker:
        from tollgate.providers.health import HealthTracker

        settings = self.settings
        health = HealthTracker(
            self.sessions,
            self.clock,
            cooldown_s=settings.cooldown_s,
            cache_ttl_s=settings.health_cache_ttl_s,
            max_pace_s=settings.retry_max_wait_s,
            events=self.provider_events,
        )
        policy = RetryPolicy(
            max_attempts=settings.retry_max_attempts,
            base_wait_s=settings.retry_base_wait_s,
            max_wait_s=settings.retry_max_wait_s,
        )
        return ProviderInvoker(self.providers, health=health, policy=policy, sleep=self.sleep, blocking=self.blocking)

    @cached_property
    def provider_events(self) -> ProviderEvents:
        from tollgate.providers.events import OutboxProviderEvents

        return OutboxProviderEvents(self.alert_outbox)

    @cached_property
    def credential_prober(self) -> CredentialProber:
        from tollgate.providers.probe import CredentialProber

        return CredentialProber(
            self.sessions,
            self.clock,
            self.providers,
            self.credential_service.target_for,
            events=self.provider_events,
            cooldown_s=self.settings.cooldown_s,
        )

    @cached_property
    def credential_source(self) -> DbCredentialSource:
        return DbCredentialSource(self.sessions, lambda: self.key_wrapper, ttl_s=self.settings.key_cache_ttl_s)

    @cached_property
    def credentials(self) -> CredentialSource:
        return self.credential_source

    @cached_property
    def credential_service(self) -> CredentialService:
        return CredentialService(
            self.sessions,
            self.key_wrapper,
            self.clock,
            allow_local_network=self.settings.allow_local_network,
            on_change=self.credential_source.invalidate,
        )

    @cached_property
    def prices(self) -> PriceBook:
        return PriceBook(self.sessions)

    @cached_property
    def budget_guard(self) -> ReservingBudgetGuard:
        from tollgate.budgets.reservations import ReservingBudgetGuard

        return ReservingBudgetGuard(
            self.sessions,
            self.clock,
            self.alert_outbox,
            reservation_ttl_s=self.settings.reservation_ttl_s,
            cache_ttl_s=self.settings.budget_cache_ttl_s,
        )

    @cached_property
    def pricing_refresher(self) -> PriceRefresher:
        from tollgate.alerts.routing import RoutingAlertQueue
        from tollgate.pricing.feeds.sources import feed_loaders
        from tollgate.pricing.refresh import PriceRefresher

        alerts = RoutingAlertQueue(self.alert_queue, self.operator_events)  # rejected feeds: operators only
        return PriceRefresher(
            self.sessions, self.clock, alerts, feed_loaders(self.settings), on_applied=self.prices.invalidate
        )

    @cached_property
    def fx(self) -> FxService:
        from tollgate.pricing.fx import FxService

        return FxService(self.sessions, self.clock, self.settings.fx_stale_after_s)

    @cached_property
    def fx_refresher(self) -> FxRefresher:
        from functools import partial

        from tollgate.pricing.fx import FxRefresher, fetch_bytes

        url = self.settings.fx_url
        return FxRefresher(self.sessions, self.clock, self.alert_queue, partial(fetch_bytes, url) if url else None)

    @cached_property
    def budgets(self) -> BudgetGuard:
        return self.budget_guard

    @cached_property
    def budget_service(self) -> BudgetService:
        from tollgate.budgets.service import BudgetService

        return BudgetService(self.sessions, self.clock, self.budget_guard)

    @cached_property
    def sweeper(self) -> ReservationSweeper:
        from tollgate.budgets.sweeper import ReservationSweeper

        return ReservationSweeper(self.sessions, self.clock, self.alert_outbox)

    @cached_property
    def resolver(self) -> ModelResolver:
        return ModelResolver(self.credentials, self.providers.names, self.settings.model_equivalents)

    @cached_property
    def routing_rules_cache(self) -> CachedRules:
        from tollgate.db.repositories.rules import DbRuleStore
        from tollgate.routing.cache import CachedRules

        return CachedRules(DbRuleStore(self.sessions))

    @cached_property
    def routing_planner(self) -> RoutingPlanner:
        from tollgate.routing.planner import RoutingPlanner

        return RoutingPlanner(self.routing_rules_cache, self.resolver, self.prices)

    @cached_property
    def routing_rules(self) -> RoutingRuleService:
        from tollgate.routing.service import RoutingRuleService

        return RoutingRuleService(self.sessions, self.clock, on_change=self.routing_rules_cache.invalidate)

    @cached_property
    def guardrails(self) -> GuardrailService:
        from tollgate.guardrails.service import GuardrailService

        return GuardrailService(self.sessions, self.clock, self.alert_queue)

    @cached_property
    def policy_gate(self) -> PolicyGate:
        from tollgate.execution.gate import PolicyGate

        return PolicyGate(self.routing_planner, self.guardrails, self.sessions, self.clock)

    @cached_property
    def execute(self) -> ExecuteService:
        resolver = self.resolver
        return ExecuteService(
            resolver=resolver,
            invoker=self.invoker,
            prices=self.prices,
            budgets=self.budgets,
            session_factory=self.sessions,
            clock=self.clock,
            alerts=self.alert_queue,
            blocking=self.blocking,
            gate=self.policy_gate,
            key_limits=self.key_limiter,
            cancelled_stream_read_s=self.settings.cancelled_stream_read_s,
        )

    @cached_property
    def usage(self) -> UsageService:
        return UsageService(self.engine)

    def close(self) -> None:
        if "alert_http" in self.__dict__:
            self.alert_http.close()
        if "http_client" in self.__dict__:
            self.http_client.close()
        if "blocking" in self.__dict__:
            self.blocking.shutdown()
        if "engine" in self.__dict__:
            self.engine.dispose()


_lock = threading.Lock()
_services: Services | None = None


def get_services() -> Services:
    """The process-wide services (a Lambda container or one local server process)."""
    global _services
    if _services is None:
        with _lock:
            if _services is None:
                _services = Services(get_settings())
    return _services


def set_services(services: Services | None) -> None:
    global _services
    _services = services
