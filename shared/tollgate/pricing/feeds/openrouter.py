"""OpenRouter's ``GET /api/v1/models``: USD-per-token decimal strings → provider ``openrouter`` rows.

``"-1"`` marks routers (``openrouter/auto``) whose price depends on the model picked: skipped.
``"0"`` is a real free price. ``internal_reasoning`` of 0 means "no separate rate" (reasoning is
then billed at the completion rate, the conservative reading).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from tollgate.pricing.calculator import PriceRow
from tollgate.pricing.feeds import InvalidPrice, ParsedFeed, per_1m, positive_int

SOURCE = "openrouter"
PROVIDER = "openrouter"
ROUTER_PRICE = "-1"
_FIELDS = {
    "input_per_1m": "prompt",
    "output_per_1m": "completion",
    "cache_read_per_1m": "input_cache_read",
    "cache_write_per_1m": "input_cache_write",
    "reasoning_per_1m": "internal_reasoning",
}


def _rate(pricing: dict[str, Any], name: str) -> Decimal | None:
    raw = pricing.get(name)
    if raw is None:
        return None
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise InvalidPrice(f"{name} is not a number") from None
    return per_1m(name, amount)


def to_price_row(model: dict[str, Any]) -> PriceRow | None:
    """The row for one model, or None for a router priced ``"-1"``. Raises ``InvalidPrice`` for a negative or
    non-numeric price (``parse_openrouter`` lists the model as invalid)."""
    pricing = model.get("pricing")
    if not isinstance(pricing, dict) or "prompt" not in pricing or "completion" not in pricing:
        return None
    if str(pricing["prompt"]) == ROUTER_PRICE or str(pricing["completion"]) == ROUTER_PRICE:
        return None
    values: dict[str, Any] = {column: _rate(pricing, name) for column, name in _FIELDS.items()}
    input_rate, output_rate = values.pop("input_per_1m"), values.pop("output_per_1m")
    if input_rate is None or output_rate is None:
        raise InvalidPrice("prompt/completion price is null")
    if values["reasoning_per_1m"] == 0:
        values["reasoning_per_1m"] = None
    top = model.get("top_provider") if isinstance(model.get("top_provider"), dict) else {}
    return PriceRow(
        id=None,
        provider=PROVIDER,
        model=str(model["id"]),
        source=SOURCE,
        input_per_1m=input_rate,
        output_per_1m=output_rate,
        max_output_tokens=positive_int((top or {}).get("max_completion_tokens")),
        max_input_tokens=positive_int(model.get("context_length")),
        **values,
    )


def parse_openrouter(document: Any, version: str) -> ParsedFeed:
    feed = ParsedFeed(source=SOURCE, version=version)
    models = document.get("data") if isinstance(document, dict) else None
    if not isinstance(models, list):
        feed.invalid.append("document has no 'data' list")
        return feed
    seen: dict[str, PriceRow] = {}
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("id"), str):
            feed.skipped += 1
            continue
        try:
            row = to_price_row(model)
        except InvalidPrice as exc:
            feed.invalid.append(f"{model['id']}: {exc}")
            continue
        if row is None:
            feed.skipped += 1
            continue
        if row.model in seen:
            feed.duplicates += 1
        seen[row.model] = row
    feed.prices = list(seen.values())
    return feed
