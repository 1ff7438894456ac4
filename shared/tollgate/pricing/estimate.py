"""``POST /v1/cost/estimate``: the cost range of a call before it is made.

min: the prompt billed uncached at the input rate and no output; max: the worst case budgets
reserve (the dearest input-side rate, ``max_tokens`` — or the model's output cap — at the dearest
output rate, the long-context tier when the prompt is near it).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tollgate.errors import InvalidRequest
from tollgate.pricing.calculator import PriceRow, input_cost, worst_case_cost
from tollgate.pricing.tokens import DEFAULT_MAX_OUTPUT_TOKENS, TokenCount, count_prompt_tokens
from tollgate.pricing.unpriced import PriceLookup, resolve_price

# Bare model ids (no "provider/") are looked up in this order.
BARE_MODEL_PROVIDERS = ("openai", "anthropic", "gemini", "deepseek", "yandex", "openrouter", "mock")


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
    """``provider/model`` → (provider, model); a bare id is found among the main providers' prices.

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
    messages: list[dict[str, Any]] | None,
    input_tokens: int | None,
    max_tokens: int | None,
    policy: str,
) -> CostEstimate:
    provider, model = split_model(requested, prices, known_providers)
    priced = resolve_price(prices, provider, model, policy)
    price = priced.price
    if messages is not None:
        counted = count_prompt_tokens(provider, model, messages)
    else:
        counted = TokenCount(input_tokens or 0, "given")
    max_out = max_tokens or price.max_output_tokens or DEFAULT_MAX_OUTPUT_TOKENS
    return CostEstimate(
        provider=provider,
        model=model,
        input_tokens=counted.tokens,
        max_output_tokens=max_out,
        tokenizer=counted.method,
        min_cost=input_cost(counted.tokens, price),
        max_cost=worst_case_cost(counted.tokens, max_out, price),
        price=price,
        estimated=priced.estimated,
    )
