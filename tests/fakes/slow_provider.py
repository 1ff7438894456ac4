"""The mock provider with a fixed delay: a slow upstream for concurrency races."""

from __future__ import annotations

import asyncio

from tollgate.providers.base import ChatRequest, ChatResponse, ProviderTarget
from tollgate.providers.mock import MockProvider


class SlowMockProvider(MockProvider):
    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    async def complete(self, target: ProviderTarget, request: ChatRequest) -> ChatResponse:
        await asyncio.sleep(self.delay_s)
        return await super().complete(target, request)
