"""The one output cap (reserved = sent upstream) and the billed-field rules."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tollgate.errors import InvalidRequest
from tollgate.metering.billed import billed_shape
from tollgate.metering.output_cap import (
    DEFAULT_OUTPUT_CAP,
    output_cap,
    requested_cap,
    wire_cap_fields,
    with_output_cap,
)
from tollgate.providers.content import max_output_tokens

MSG = {"messages": [{"role": "user", "content": "hi"}]}


def test_an_explicit_null_is_the_same_as_absent_everywhere() -> None:
    body = {**MSG, "max_completion_tokens": None, "max_tokens": 5}
    assert output_cap(body, 64_000).tokens == 5
    assert max_output_tokens(body, 4096) == 5  # what every translating adapter reads
    sent = with_output_cap(body, output_cap(body, 64_000))
    assert sent["max_completion_tokens"] == 5 and "max_tokens" not in sent


def test_no_cap_and_no_known_maximum_sends_the_default_upstream() -> None:
    cap = output_cap(MSG, None)
    assert (cap.tokens, cap.source) == (DEFAULT_OUTPUT_CAP, "default")
    assert with_output_cap(MSG, cap)["max_completion_tokens"] == DEFAULT_OUTPUT_CAP


def test_the_model_maximum_is_the_default_and_clamps_requests() -> None:
    assert output_cap(MSG, 16_384).tokens == 16_384
    clamped = output_cap({**MSG, "max_tokens": 100_000}, 16_384)
    assert (clamped.tokens, clamped.clamped) == (16_384, True)


def test_both_fields_the_smaller_wins() -> None:
    assert output_cap({**MSG, "max_tokens": 50, "max_completion_tokens": 70}, None).tokens == 50


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "10"])
def test_an_invalid_cap_is_a_400_naming_the_field(value: Any) -> None:
    with pytest.raises(InvalidRequest, match="body.max_tokens"):
        output_cap({**MSG, "max_tokens": value}, None)


def test_wire_names_per_provider() -> None:
    body = {**MSG, "max_completion_tokens": 9}
    assert wire_cap_fields(body, "openai")["max_completion_tokens"] == 9
    deepseek = wire_cap_fields(body, "deepseek")
    assert deepseek["max_tokens"] == 9 and "max_completion_tokens" not in deepseek


caps = st.one_of(st.none(), st.integers(min_value=1, max_value=2_000_000))


@given(caps, caps, st.one_of(st.none(), st.integers(min_value=1, max_value=200_000)))
def test_what_is_sent_is_exactly_what_is_reserved(mct: int | None, mt: int | None, model_max: int | None) -> None:
    body: dict[str, Any] = {**MSG, "max_completion_tokens": mct, "max_tokens": mt}
    cap = output_cap(body, model_max)
    sent = with_output_cap(body, cap)
    for provider in ("openai", "deepseek", "openrouter", "custom"):
        wired = wire_cap_fields(sent, provider)
        assert [wired.get(f) for f in ("max_completion_tokens", "max_tokens") if wired.get(f) is not None] == [
            cap.tokens
        ]
    assert requested_cap(sent) == (cap.tokens, "max_completion_tokens")
    assert max_output_tokens(sent) == cap.tokens  # anthropic / gemini / yandex read this
    assert cap.tokens >= 1 and (model_max is None or cap.tokens <= model_max)


# -- billed fields ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"service_tier": "priority"}, "service_tier"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"web_search_options": {}}, "web_search_options"),
        ({"plugins": [{"id": "web"}]}, "plugins"),
        ({"tools": [{"type": "web_search_preview"}]}, "tools[0].type"),
        ({"n": 0}, "n"),
        ({"n": 129}, "n"),
    ],
)
def test_unpriceable_billed_fields_are_refused_naming_the_field(extra: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        billed_shape({**MSG, **extra})
    assert raised.value.message.startswith(f"body.{field}:")


def test_n_and_predictions_multiply_the_output_reservation() -> None:
    shape = billed_shape({**MSG, "n": 8, "service_tier": "flex", "prediction": {"content": "x" * 400}})
    assert shape.choices == 8 and shape.extra_output_tokens >= 100
    assert shape.output_tokens(50) == 8 * 50 + shape.extra_output_tokens
