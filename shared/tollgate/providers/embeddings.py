"""Embeddings: the OpenAI ``/v1/embeddings`` shape in and out, and Gemini's ``batchEmbedContents``.
Pure wire translation; the adapters do the I/O.

OpenAI-compatible upstreams (OpenAI, DeepSeek, OpenRouter, custom) get the request as sent and
answer in OpenAI's shape already (``usage.prompt_tokens``). Gemini gets one ``EmbedContentRequest``
per input (``outputDimensionality`` from ``dimensions``) and answers ``{"embeddings": [{"values"}]}``
without token counts, so its input is counted by the gateway's estimator. ``encoding_format:
"base64"`` is little-endian float32, as OpenAI encodes it.
"""

from __future__ import annotations

import base64
import struct
from dataclasses import dataclass
from typing import Any

from tollgate.metering.text import text_tokens
from tollgate.providers.base import Usage

Inputs = list[str] | list[list[int]]


@dataclass(frozen=True)
class EmbeddingRequest:
    """``inputs`` is always a list: strings, or token arrays (lists of ints)."""

    model: str
    inputs: Inputs
    dimensions: int | None = None
    encoding_format: str = "float"
    user: str | None = None

    @property
    def token_arrays(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], list)


def normalize_input(value: Any) -> Inputs:
    """OpenAI's ``input``: a string, a list of strings, a token array or a list of token arrays."""
    if isinstance(value, str):
        return [value]
    if value and all(isinstance(v, int) for v in value):
        return [list(value)]
    return list(value)


def estimate_input_tokens(inputs: Inputs) -> int:
    """Token arrays count exactly; text by the gateway's estimator (the same as for prompts)."""
    return sum(len(item) if isinstance(item, list) else text_tokens(item) for item in inputs)


def encode_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def openai_body(request: EmbeddingRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"model": request.model, "input": request.inputs, "encoding_format": request.encoding_format}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    if request.user:
        body["user"] = request.user
    return body


def is_openai_list(payload: Any, count: int) -> bool:
    data = payload.get("data") if isinstance(payload, dict) else None
    return isinstance(data, list) and len(data) == count and all(isinstance(d, dict) for d in data)


def gemini_body(request: EmbeddingRequest) -> dict[str, Any]:
    """``batchEmbedContents``: one request per text input (token arrays are refused before this)."""
    requests = []
    for text in request.inputs:
        item: dict[str, Any] = {"model": f"models/{request.model}", "content": {"parts": [{"text": text}]}}
        if request.dimensions is not None:
            item["outputDimensionality"] = request.dimensions
        requests.append(item)
    return {"requests": requests}


def gemini_vectors(payload: Any, count: int) -> list[list[float]] | None:
    """The vectors of a ``batchEmbedContents`` answer, or None when it is not one for ``count`` inputs."""
    embeddings = payload.get("embeddings") if isinstance(payload, dict) else None
    if not isinstance(embeddings, list) or len(embeddings) != count:
        return None
    vectors = []
    for item in embeddings:
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
            return None
        vectors.append([float(v) for v in values])
    return vectors


def embedding_list(vectors: list[list[float]], model: str, usage: Usage, encoding_format: str) -> dict[str, Any]:
    """OpenAI's ``{"object": "list", "data": [...], "model", "usage"}`` from plain vectors."""
    data = [
        {
            "object": "embedding",
            "index": index,
            "embedding": encode_base64(vector) if encoding_format == "base64" else vector,
        }
        for index, vector in enumerate(vectors)
    ]
    tokens = usage.prompt_tokens
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
