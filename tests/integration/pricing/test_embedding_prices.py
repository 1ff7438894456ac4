"""Embedding models are priced from the packaged LiteLLM snapshot's embedding entries (input only)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tollgate.pricing.calculator import cost_of
from tollgate.providers.base import Usage
from tollgate.wiring import Services


@pytest.mark.parametrize(
    ("provider", "model", "per_1m"),
    [
        ("openai", "text-embedding-3-small", Decimal("0.02")),
        ("openai", "text-embedding-3-large", Decimal("0.13")),
        ("gemini", "gemini-embedding-001", Decimal("0.15")),
    ],
)
def test_seeded_embedding_prices(services: Services, provider: str, model: str, per_1m: Decimal) -> None:
    price = services.prices.current(provider, model)
    assert price is not None
    assert (price.input_per_1m, price.output_per_1m) == (per_1m, Decimal(0))
    assert cost_of(Usage(input_tokens=1_000_000), price) == per_1m
