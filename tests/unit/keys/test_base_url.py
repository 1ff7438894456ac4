"""Credential base URL rules: https, localhost only in local mode, no credentials/query/private IPs."""

from __future__ import annotations

import pytest

from tollgate.errors import InvalidRequest
from tollgate.keys.base_url import DEFAULT_BASE_URLS, resolve_base_url, validate_base_url


@pytest.mark.parametrize(
    ("url", "local", "expected"),
    [
        ("https://api.openai.com/v1/", False, "https://api.openai.com/v1"),
        ("https://llm.example.com:8443/v1", False, "https://llm.example.com:8443/v1"),
        ("https://8.8.8.8/v1", False, "https://8.8.8.8/v1"),
        ("http://127.0.0.1:8000/v1", True, "http://127.0.0.1:8000/v1"),
        ("http://localhost:8000", True, "http://localhost:8000"),
        ("http://[::1]:8000", True, "http://[::1]:8000"),
        ("https://localhost", True, "https://localhost"),
    ],
)
def test_accepted(url: str, local: bool, expected: str) -> None:
    assert validate_base_url(url, allow_local_network=local) == expected


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8000", False),
        ("https://localhost", False),
        ("https://app.localhost", False),
        ("http://api.example.com", True),
        ("https://0.0.0.0", True),
        ("https://100.64.0.1", False),
        ("https://[fe80::1]", False),
        ("https://[::ffff:10.0.0.1]", False),
        ("https://a@api.example.com", False),
        ("https://api.example.com/?x=1", False),
        ("https://api.example.com/#x", False),
        ("javascript:alert(1)", False),
        ("//api.example.com", False),
        ("", False),
    ],
)
def test_refused(url: str, local: bool) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_base_url(url, allow_local_network=local)
    assert caught.value.code == "invalid_base_url"


def test_defaults_follow_each_provider_sdk() -> None:
    for provider, default in DEFAULT_BASE_URLS.items():
        assert resolve_base_url(provider, None, allow_local_network=False) == default
    with pytest.raises(InvalidRequest):
        resolve_base_url("custom", None, allow_local_network=False)
