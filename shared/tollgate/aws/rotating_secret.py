"""Secrets that survive rotation: cached at most ``max_age_s``, re-read at once when a caller saw
the cached value fail (a refused database login, an unknown root key).

Reads go through Powertools' ``SecretsProvider`` (its cache holds a value for ``max_age``). A forced
re-read is allowed at most once per ``min_refresh_s``, so a client sending wrong keys cannot turn
every request into a Secrets Manager call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

DEFAULT_MAX_AGE_S = 300
DEFAULT_MIN_REFRESH_S = 30.0


class RotatingSecret:
    def __init__(
        self,
        arn: str,
        *,
        max_age_s: int = DEFAULT_MAX_AGE_S,
        min_refresh_s: float = DEFAULT_MIN_REFRESH_S,
        client: Any | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        self._arn = arn
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._provider = SecretsProvider(boto3_client=client) if client is not None else SecretsProvider()
        self._monotonic = monotonic
        self._last_forced: float | None = None
        self._lock = threading.Lock()

    def value(self, *, refresh: bool = False) -> str:
        """The secret string; ``refresh=True`` re-reads it unless that was done under ``min_refresh_s`` ago."""
        force = False
        if refresh:
            with self._lock:
                now = self._monotonic()
                if self._last_forced is None or now - self._last_forced >= self._min_refresh_s:
                    self._last_forced, force = now, True
        raw = self._provider.get(self._arn, max_age=self._max_age_s, force_fetch=force)
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    def json(self, *, refresh: bool = False) -> dict[str, Any]:
        """The secret parsed as a JSON object. Raises ``ValueError`` when it is not one."""
        parsed = json.loads(self.value(refresh=refresh))
        if not isinstance(parsed, dict):
            raise ValueError("the secret is not a JSON object")
        return parsed
