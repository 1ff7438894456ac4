"""``POST /v1/cost/estimate``: the cost range of a call before it is made.

min: the prompt billed uncached at the input rate and no output; max: exactly the worst case a
budget reserves for the same body (``pricing.tokens.size_request``: every prompt token at the
dearest input-side rate, the output cap times ``n`` at the dearest output rate, the long-context
tier when the prompt is near it).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.pricing.calculator import PriceRow, input_cost, worst_case_cost
from tollgate.pricing.tokens import size_request
from tollgate.pricing.unpriced import PriceLookup, resolve_price
from tollgate.providers.registry import BARE_MODEL_PROVIDERS


@dataclass(frozen=True)
class CostEstimate:
    provider: str
    model: str
    input_tokens: int
    max_output_tokens: int
    tokenizer: str
    min_cost: Decimal
    max_cost: Decimal
    price: PriceRow
    estimated: bool


def split_model(requested: str, prices: PriceLookup, known_providers: frozenset[str]) -> tuple[str, str]:
    """``provider/model`` → (provider, model); a bare id is found among the prices of the registry's
    ``bare_models`` providers, in registry order.

    Raises ``InvalidRequest`` for a bare id no main provider prices."""
    if "/" in requested:
        provider, model = requested.split("/", 1)
        if provider.startswith("custom:"):
            provider = "custom"
        if provider in known_providers and model:
            return provider, model
    for provider in BARE_MODEL_PROVIDERS:
        if prices.current(provider, requested) is not None:
            return provider, requested
    raise InvalidRequest(f"body.model: unknown model {requested!r}; use provider/model", code="unknown_model")


def estimate_cost(
    prices: PriceLookup,
    known_providers: frozenset[str],
    requested: str,
    *,
    body: Mapping[str, Any],
    input_tokens: int | None,
    policy: str,
    workspace_id: uuid.UUID | None = None,
) -> CostEstimate:
    """The estimate for ``body`` (an OpenAI chat body without ``model``; when ``input_tokens`` is
    given it replaces the counted prompt). Raises ``InvalidRequest`` / ``PricingUnavailable``."""
    provider, model = split_model(requested, prices, known_providers)
    priced = resolve_price(prices, provider, model, policy, workspace_id)
    price = priced.price
    size = size_request(provider, model, body, price.max_output_tokens)
    tokens = size.prompt_tokens if input_tokens is None else input_tokens
    tokenizer = size.prompt.method if input_tokens is None else "given"
    max_out = size.output_tokens
    return CostEstimate(
        provider=provider,
        model=model,
        input_tokens=tokens,
        max_output_tokens=max_out,
        tokenizer=tokenizer,
        min_cost=input_cost(tokens, price),
        max_cost=worst_case_cost(tokens, max_out, price),
        price=price,
        estimated=priced.estimated,
    )
