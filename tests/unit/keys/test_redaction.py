"""Every key shape we know is redacted from log lines, and httpx errors never carry header values
(a real connection failure is in tests/integration/keys/test_redaction_network.py)."""

from __future__ import annotations

import io
import json
import logging
import traceback

import httpx
import pytest

from tollgate.keys.redaction import REDACTED, mask_key, redact
from tollgate.observability import RedactingFormatter

SAMPLES = {
    "openai": "sk-proj-" + "A1b2C3d4" * 5,
    "openai_legacy": "sk-" + "Zx9" * 16,
    "anthropic": "sk-ant-api03-" + "q" * 40 + "-AA",
    "openrouter": "sk-or-v1-" + "f" * 64,
    "deepseek": "sk-" + "0123456789abcdef" * 2,
    "gemini": "AIzaSy" + "D" * 33,
    "gateway": "tg_abcdefghijkl_" + "S3cr3tS3cr3tS3cr3tS3cr3tS3cr3tX",
    "yandex": "AQVN" + "1aB2" * 9,
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize(
    "template",
    [
        "key={k}",
        "using {k} now",
        '{{"api_key": "{k}"}}',
        "Authorization: Bearer {k}",
        "authorization=Bearer {k}",
        "x-api-key: {k}",
        "{{'x-api-key': '{k}'}}",
        "x-goog-api-key: {k}",
        "Authorization: Api-Key {k}",
        "https://host/v1/models?key={k}",
    ],
)
def test_every_key_shape_is_redacted(name: str, template: str) -> None:
    secret = SAMPLES[name]
    line = template.format(k=secret)
    cleaned = redact(line)
    assert secret not in cleaned
    assert secret[-12:] not in cleaned
    assert REDACTED in cleaned


@pytest.mark.parametrize(
    "line",
    [
        "Authorization: Bearer opaque-token-without-prefix-123456",
        "authorization: Basic dXNlcjpwYXNzd29yZA==",
        "'Authorization': 'Bearer abc.def.ghi-jkl'",
        "x-api-key=plainvalue12345",
    ],
)
def test_header_values_are_redacted_whatever_they_look_like(line: str) -> None:
    value = line.rsplit(maxsplit=1)[-1].strip("'")
    assert value not in redact(line)


def test_ordinary_text_is_left_alone() -> None:
    text = "model=openai/gpt-4o-mini tokens=12 cost_usd=0.0001 task-skeleton risk-free"
    assert redact(text) == text


def test_mask_key_shows_only_a_prefix_and_last_four() -> None:
    assert mask_key(SAMPLES["anthropic"]) == "sk-ant-..." + SAMPLES["anthropic"][-4:]
    assert mask_key(SAMPLES["gemini"]) == "AIza..." + SAMPLES["gemini"][-4:]
    assert mask_key("short") == "..."
    assert mask_key("abcdefghijklmnop") == "...mnop"


def test_json_log_lines_and_tracebacks_are_redacted() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter())
    log = logging.getLogger("tollgate.test.redaction")
    log.addHandler(handler)
    log.propagate = False
    try:
        try:
            raise RuntimeError(f"upstream said no to {SAMPLES['anthropic']}")
        except RuntimeError:
            log.exception("call failed", extra={"headers": {"authorization": f"Bearer {SAMPLES['openai']}"}})
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert json.loads(output.splitlines()[0])["message"] == "call failed"
    for secret in (SAMPLES["anthropic"], SAMPLES["openai"]):
        assert secret not in output


def test_httpx_status_errors_do_not_carry_headers() -> None:
    secret = SAMPLES["anthropic"]

    def reject(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"error": "bad key"}, request=request)

    with httpx.Client(transport=httpx.MockTransport(reject)) as client:
        response = client.get("https://api.anthropic.com/v1/models", headers={"x-api-key": secret})
        with pytest.raises(httpx.HTTPStatusError) as caught:
            response.raise_for_status()
    rendered = "".join(traceback.format_exception(caught.value)) + repr(caught.value)
    assert secret not in rendered
