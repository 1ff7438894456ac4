"""A real connection failure through httpx never carries the request's key headers."""

from __future__ import annotations

import traceback

import httpx
import pytest

from tests.unit.keys.test_redaction import SAMPLES


def test_httpx_failures_never_carry_request_headers() -> None:
    # Given a real httpx call with key headers to a port nobody listens on
    secret = SAMPLES["openai"]
    headers = {"Authorization": f"Bearer {secret}", "x-api-key": secret, "x-goog-api-key": SAMPLES["gemini"]}
    with httpx.Client(timeout=2) as client, pytest.raises(httpx.HTTPError) as caught:
        client.get("http://127.0.0.1:9/v1/models", headers=headers)
    # Then neither the message, the repr nor the formatted traceback contains a key
    exc = caught.value
    rendered = "".join(traceback.format_exception(exc)) + str(exc) + repr(exc)
    assert secret not in rendered and SAMPLES["gemini"] not in rendered
    # And the request object attached to the error reprs without headers
    assert secret not in repr(exc.request)
