"""The provider registry is the one list: every entry builds its adapter, and every reader agrees with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tollgate.api.schemas.credentials import CredentialIn
from tollgate.errors import InvalidRequest
from tollgate.execution.embeddings import EmbeddingsClient
from tollgate.keys.base_url import DEFAULT_BASE_URLS, resolve_base_url
from tollgate.keys.credentials import check_free, check_options
from tollgate.metering.images import image_tokens
from tollgate.pricing.feeds.litellm import PROVIDER_NAMES
from tollgate.pricing.precedence import OWN_FEED
from tollgate.providers.adapters import adapter_factory, build_adapters
from tollgate.providers.http import UpstreamHttp
from tollgate.providers.http_adapter import HttpProvider
from tollgate.providers.registry import (
    BARE_MODEL_PROVIDERS,
    CREDENTIAL_PROVIDERS,
    PROVIDERS,
    ProviderSpec,
    provider_spec,
)
from tollgate.ui.lists import dashboard_lists

HTTP = UpstreamHttp(1.0, 1.0, 4, allow_local_network=True)
DASHBOARD_LISTS = Path(__file__).resolve().parents[2] / "shared/tollgate/ui/static/lists.js"


@pytest.mark.parametrize("spec", PROVIDERS, ids=lambda s: s.name)
def test_every_entry_builds_its_adapter(spec: ProviderSpec) -> None:
    client = adapter_factory(spec)(HTTP, spec)
    assert client.name == spec.name
    assert isinstance(client, EmbeddingsClient) is spec.embeddings
    if isinstance(client, HttpProvider):  # the default base URL the adapter uses is the registry's
        assert client._default_base_url == (spec.default_base_url or "")


def test_build_adapters_covers_the_registry() -> None:
    assert set(build_adapters(HTTP)) == {spec.name for spec in PROVIDERS}


def test_names_are_unique_and_lowercase() -> None:
    names = [spec.name for spec in PROVIDERS]
    assert len(names) == len(set(names))
    assert all(name == name.lower() and "/" not in name and ":" not in name for name in names)


def test_credential_api_accepts_exactly_the_credential_providers() -> None:
    schema = CredentialIn.model_json_schema()["properties"]["provider"]
    assert tuple(schema["enum"]) == CREDENTIAL_PROVIDERS
    assert "mock" not in CREDENTIAL_PROVIDERS  # built in: no credential rows


def test_default_base_urls_come_from_the_registry() -> None:
    for spec in PROVIDERS:
        if spec.credential and spec.default_base_url:
            assert resolve_base_url(spec.name, None, allow_local_network=False) == spec.default_base_url
    assert set(DEFAULT_BASE_URLS) == {s.name for s in PROVIDERS if s.credential and s.default_base_url}
    with pytest.raises(InvalidRequest, match="base_url: required for provider 'custom'"):
        resolve_base_url("custom", None, allow_local_network=False)


def test_required_options_and_self_hosted_rules_read_the_registry() -> None:
    with pytest.raises(InvalidRequest, match=r"options\.folder_id: required for provider 'yandex'"):
        check_options("yandex", {"folder_id": "  "})
    check_options("yandex", {"folder_id": "b1g"})
    check_options("openai", {})
    check_free("custom", True)
    with pytest.raises(InvalidRequest, match="only custom credentials"):
        check_free("openai", True)


def test_price_feed_mapping_and_precedence_read_the_registry() -> None:
    assert PROVIDER_NAMES["text-completion-openai"] == "openai"
    assert {PROVIDER_NAMES[a] for s in PROVIDERS for a in s.litellm_providers} <= {s.name for s in PROVIDERS}
    assert OWN_FEED == {"openrouter": "openrouter"}
    assert provider_spec("yandex").litellm_providers == ()  # LiteLLM has no Yandex rows


def test_estimate_rules_read_the_registry() -> None:
    assert BARE_MODEL_PROVIDERS[0] == "openai" and "custom" not in BARE_MODEL_PROVIDERS
    # no documented image rule (DeepSeek) → the largest of the three documented ones
    worst = image_tokens("deepseek", "deepseek-chat", (1024, 1024), None)
    assert worst == max(image_tokens(p, "gpt-4o", (1024, 1024), None) for p in ("openai", "anthropic", "gemini"))


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(InvalidRequest) as caught:
        provider_spec("nope")
    assert caught.value.code == "unknown_provider"


def test_dashboard_lists_are_generated_from_the_registry_and_the_scope_table() -> None:
    # regenerate: python -m tollgate.ui.lists > shared/tollgate/ui/static/lists.js
    assert DASHBOARD_LISTS.read_text(encoding="utf-8") == dashboard_lists()
    assert '"name": "user", "needs_value": true' in dashboard_lists()
