"""The size of a call before it is made: prompt tokens, the output cap and the billed fields.

``size_request`` is the one estimator behind both the budget reservation (the execute path) and
``POST /v1/cost/estimate``: the same body gives the same numbers, so a reservation is never below
what the estimate endpoint shows. The rules live in ``tollgate.metering`` (prompt, images, text,
output cap, billed fields); this module puts them together for a (provider, model) and a price's
maximum output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tollgate.metering.billed import BilledShape, billed_shape
from tollgate.metering.output_cap import DEFAULT_OUTPUT_CAP, OutputCap, output_cap
from tollgate.metering.prompt import PromptCount, prompt_tokens

DEFAULT_MAX_OUTPUT_TOKENS = DEFAULT_OUTPUT_CAP


@dataclass(frozen=True)
class RequestSize:
    """``prompt``: the prompt estimate; ``cap``: the output cap per choice, sent upstream;
    ``shape``: billed multipliers (``n``, predicted output)."""

    prompt: PromptCount
    cap: OutputCap
    shape: BilledShape

    @property
    def prompt_tokens(self) -> int:
        return self.prompt.tokens

    @property
    def output_tokens(self) -> int:
        """The worst-case output tokens: the cap times ``n`` plus predicted output."""
        return self.shape.output_tokens(self.cap.tokens)


def size_request(provider: str, model: str, body: Mapping[str, Any], model_max_output: int | None) -> RequestSize:
    """Size ``body`` (an OpenAI chat body) for ``provider``/``model``.

    Raises ``InvalidRequest`` (400 naming the field) for an invalid output cap or a billed field
    Tollgate cannot price (``metering.billed``)."""
    shape = billed_shape(body)
    cap = output_cap(body, model_max_output)
    return RequestSize(prompt_tokens(provider, model, body), cap, shape)


def estimate_prompt_tokens(provider: str, model: str, body: Mapping[str, Any]) -> int:
    """Prompt tokens of ``body`` (see ``metering.prompt``)."""
    return prompt_tokens(provider, model, body).tokens
