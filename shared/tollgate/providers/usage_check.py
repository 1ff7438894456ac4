"""Usage sanity at the provider boundary: what an upstream reports is checked, never trusted blindly.

``sanitize_usage`` is pure. A reported usage object is accepted only when every token counter in it
is an integer in ``[0, MAX_REPORTED_TOKENS]`` (JSON numbers that are whole floats, and decimal
strings as Yandex sends them, count as integers) and the counters the provider always sends are
present. Otherwise — missing or ``null`` usage, negative, huge, ``Infinity``/``NaN``, booleans,
non-numeric strings, or counters that contradict each other — the usage is replaced by an
estimate, flagged ``estimated``, and the problems are listed (and logged by ``checked_usage``):

* input: the larger of the prompt estimate (``metering.prompt``) and any valid prompt count reported,
  all billed as uncached input (the dearest input class);
* output: the larger of the answer's text tokens and any valid output count reported.

A provider-reported charge (OpenRouter ``usage.cost``) is kept only when it is a finite number in
``[0, MAX_REPORTED_COST_USD]``; an estimate never carries one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from tollgate.metering.prompt import prompt_tokens
from tollgate.metering.text import text_tokens
from tollgate.observability import logger
from tollgate.providers.base import ChatRequest, Usage

# No single call reports more: the largest context windows are ~10M tokens.
MAX_REPORTED_TOKENS = 100_000_000
MAX_REPORTED_COST_USD = Decimal(100_000)
_COST_FIELDS = frozenset({"cost"})


@dataclass(frozen=True)
class CheckedUsage:
    """``usage``: what to bill; ``estimated``: it is (partly) Tollgate's estimate; ``problems``:
    what was wrong with the report (field paths and a reason, never prompt text)."""

    usage: Usage
    estimated: bool
    problems: tuple[str, ...]


def token_count(value: Any) -> int | None:
    """``value`` as a token count, or None when it is not one (see the module rule)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= MAX_REPORTED_TOKENS else None
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and 0 <= value <= MAX_REPORTED_TOKENS:
            return int(value)
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= 12:
            number = int(text)
            return number if number <= MAX_REPORTED_TOKENS else None
    return None


def reported_cost(value: Any) -> Decimal | None:
    """A provider-reported charge in USD, or None when absent or not a sane amount."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        cost = Decimal(str(value))
    except InvalidOperation:
        return None
    if not cost.is_finite() or cost < 0 or cost > MAX_REPORTED_COST_USD:
        return None
    return cost


def _is_counter(name: str) -> bool:
    lowered = name.lower()
    return "token" in lowered or lowered.endswith("count")


def _check_counters(raw: Mapping[str, Any], path: str, problems: list[str], depth: int = 0) -> dict[str, Any]:
    """A copy of ``raw`` without invalid counters; each dropped counter is listed in ``problems``."""
    clean: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, Mapping):
            if depth < 3:
                clean[name] = _check_counters(value, f"{path}.{name}", problems, depth + 1)
            continue
        if isinstance(value, list):  # per-modality breakdowns (Gemini): informative, not billed from
            clean[name] = value
            continue
        if name in _COST_FIELDS:
            if value is not None and reported_cost(value) is None:
                problems.append(f"{path}.{name}: not a sane amount")
                continue
        elif _is_counter(str(name)) and value is not None and token_count(value) is None:
            problems.append(f"{path}.{name}: not a token count")
            continue
        clean[name] = value
    return clean


def _consistent(usage: Usage) -> list[str]:
    problems = []
    for name in ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens"):
        value = getattr(usage, name)
        if not 0 <= value <= MAX_REPORTED_TOKENS:
            problems.append(f"usage: {name} out of range after normalization")
    if usage.reasoning_tokens > usage.output_tokens:
        problems.append("usage: reasoning tokens exceed output tokens")
    return problems


def sanitize_usage(
    raw: Any,
    request: ChatRequest,
    answer: str,
    *,
    provider: str,
    parse: Callable[[Mapping[str, Any]], Usage],
    required: tuple[str, ...] = (),
) -> CheckedUsage:
    """Check ``raw`` (the provider's usage object) and normalize it with ``parse``.

    ``request`` is the call as sent (for the prompt estimate), ``answer`` the text produced
    (content, reasoning and tool-call arguments). Never raises for any ``raw``."""
    problems: list[str] = []
    if not isinstance(raw, Mapping):
        problems.append("usage: missing" if raw is None else "usage: not an object")
        clean: dict[str, Any] = {}
    else:
        clean = _check_counters(raw, "usage", problems)
        problems += [f"usage.{name}: missing" for name in required if raw.get(name) is None]
    try:
        parsed = parse(clean)
    except Exception:  # a parser must never turn a bad report into a 500
        problems.append("usage: could not be parsed")
        parsed = Usage()
    if not problems:
        problems += _consistent(parsed)
    if not problems:
        return CheckedUsage(parsed, False, ())
    return CheckedUsage(_estimate(parsed, request, answer, provider), True, tuple(problems))


def _estimate(partial: Usage, request: ChatRequest, answer: str, provider: str) -> Usage:
    def valid(value: int) -> int:
        return value if 0 <= value <= MAX_REPORTED_TOKENS else 0

    reported_prompt = valid(partial.input_tokens) + valid(partial.cache_read_tokens) + valid(partial.cache_write_tokens)
    prompt = max(prompt_tokens(provider, request.model, request.body).tokens, min(reported_prompt, MAX_REPORTED_TOKENS))
    output = max(text_tokens(answer), valid(partial.output_tokens))
    reasoning = min(valid(partial.reasoning_tokens), output)
    return Usage(input_tokens=prompt, output_tokens=output, reasoning_tokens=reasoning, estimated=True)


def checked_usage(
    provider: str,
    raw: Any,
    request: ChatRequest,
    answer: str,
    parse: Callable[[Mapping[str, Any]], Usage],
    *,
    required: tuple[str, ...] = (),
) -> Usage:
    """``sanitize_usage`` for an adapter: the usage to bill; problems are logged (no prompt text)."""
    checked = sanitize_usage(raw, request, answer, provider=provider, parse=parse, required=required)
    if checked.problems:
        logger.warning(
            "upstream usage replaced by an estimate",
            extra={"provider": provider, "model": request.model, "usage_problems": list(checked.problems)},
        )
    return checked.usage


def checked_report(
    provider: str, raw: Any, request: ChatRequest, parse: Callable[[Mapping[str, Any]], Usage]
) -> Usage | None:
    """A streamed usage report, or None when it is not sane (the stream then meters what it produced
    and the usage is flagged estimated)."""
    if not isinstance(raw, Mapping):
        return None
    problems: list[str] = []
    clean = _check_counters(raw, "usage", problems)
    try:
        parsed = parse(clean)
    except Exception:
        problems.append("usage: could not be parsed")
        parsed = Usage()
    problems += _consistent(parsed) if not problems else []
    if problems:
        logger.warning(
            "streamed upstream usage ignored",
            extra={"provider": provider, "model": request.model, "usage_problems": problems},
        )
        return None
    return parsed


def answer_text(body: Mapping[str, Any]) -> str:
    """The text an OpenAI ``chat.completion`` body produced: content, reasoning and tool-call arguments."""
    pieces: list[str] = []
    choices = body.get("choices")
    for choice in choices if isinstance(choices, list) else ():
        message = choice.get("message") if isinstance(choice, Mapping) else None
        if not isinstance(message, Mapping):
            continue
        for key in ("content", "reasoning_content", "reasoning"):
            if isinstance(message.get(key), str):
                pieces.append(message[key])
        for call in message.get("tool_calls") or ():
            function = call.get("function") if isinstance(call, Mapping) else None
            if isinstance(function, Mapping) and isinstance(function.get("arguments"), str):
                pieces.append(function["arguments"])
    return "".join(pieces)
