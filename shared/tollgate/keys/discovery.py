"""Reading the model list of a custom, OpenAI-compatible server (Ollama, vLLM, LM Studio).

``GET {base_url}/models`` with the credential's key as a bearer token; the answer is OpenAI's list
shape ``{"data": [{"id": "llama3.1:8b", ...}, ...]}`` (Ollama serves it under ``/v1``, as do vLLM and
LM Studio, so ``base_url`` is written with ``/v1`` like for OpenAI). At most ``MAX_MODELS`` ids of at
most 200 characters are kept, sorted and de-duplicated; anything else is an upstream error.
"""

from __future__ import annotations

from typing import Any

import httpx

from tollgate.errors import ProviderUnavailable
from tollgate.providers.base import ProviderTarget

MAX_MODELS = 500
MAX_BYTES = 2 * 1024 * 1024
TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def list_models(http: httpx.Client, target: ProviderTarget) -> list[str]:
    """The model ids the server lists; raises ProviderUnavailable (502) when it cannot be read."""
    url = target.base_url.rstrip("/") + "/models"
    headers = {"authorization": f"Bearer {target.api_key}", "accept": "application/json"}
    try:
        response = http.get(url, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(f"Could not reach the custom server ({exc.__class__.__name__})") from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"The custom server answered HTTP {response.status_code} to GET /models")
    if len(response.content) > MAX_BYTES:
        raise ProviderUnavailable("The custom server's model list is too large")
    try:
        document: Any = response.json()
    except ValueError:
        raise ProviderUnavailable("The custom server's model list is not JSON") from None
    entries = document.get("data") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise ProviderUnavailable("The custom server's model list has no 'data' array")
    ids = {
        entry["id"].strip()
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and 0 < len(entry["id"].strip()) <= 200
    }
    return sorted(ids)[:MAX_MODELS]
