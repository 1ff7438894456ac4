"""The one place that chooses implementations: local or AWS, real or fake.

``Services`` builds each component lazily on first use, so a Lambda function pays only for what
it touches and nothing does I/O at import time. Tests build ``Services`` with their own settings
and override components by passing them in ``overrides``.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tollgate.alerts.queue import AlertQueue, InProcessAlertQueue
from tollgate.budgets.guard import BudgetGuard, NoBudgets
from tollgate.clock import Clock, SystemClock
from tollgate.config import Settings, get_settings
from tollgate.db.engine import create_db_engine, create_session_factory
from tollgate.execution.resolver import CredentialSource, ModelResolver, NoCredentials
from tollgate.execution.service import ExecuteService
from tollgate.keys.auth import Authenticator
from tollgate.keys.service import GatewayKeyService, WorkspaceService
from tollgate.keys.wrapping import KeyWrapper
from tollgate.pricing.book import PriceBook
from tollgate.providers.invoker import ProviderInvoker
from tollgate.providers.mock import MockProvider
from tollgate.providers.registry import ProviderRegistry
from tollgate.usage.service import UsageService


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
    def root_key(self) -> str | None:
        if self.settings.root_key_secret_arn and not self.settings.root_key:
            from tollgate.aws.secrets import read_secret

            return read_secret(self.settings.root_key_secret_arn)
        return self.settings.root_key

    @cached_property
    def engine(self) -> Engine:
        return create_db_engine(self.database_url, pool_size=self.settings.db_pool_size)

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
        return GatewayKeyService(self.sessions, self.clock, self.authenticator)

    @cached_property
    def key_wrapper(self) -> KeyWrapper:
        from tollgate.keys.wrapping import build_key_wrapper

        return build_key_wrapper(self.settings)

    @cached_property
    def alert_queue(self) -> AlertQueue:
        return InProcessAlertQueue()

    @cached_property
    def providers(self) -> ProviderRegistry:
        return ProviderRegistry({"mock": MockProvider()})

    @cached_property
    def credentials(self) -> CredentialSource:
        return NoCredentials()

    @cached_property
    def prices(self) -> PriceBook:
        return PriceBook(self.sessions)

    @cached_property
    def budgets(self) -> BudgetGuard:
        return NoBudgets()

    @cached_property
    def execute(self) -> ExecuteService:
        resolver = ModelResolver(self.credentials, self.providers.names)
        return ExecuteService(
            resolver=resolver,
            invoker=ProviderInvoker(self.providers),
            prices=self.prices,
            budgets=self.budgets,
            session_factory=self.sessions,
            clock=self.clock,
        )

    @cached_property
    def usage(self) -> UsageService:
        return UsageService(self.engine)

    def close(self) -> None:
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
