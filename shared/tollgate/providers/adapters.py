"""Every HTTP adapter, built around the one shared transport."""

from __future__ import annotations

from tollgate.providers.anthropic import AnthropicProvider
from tollgate.providers.base import ProviderClient
from tollgate.providers.gemini import GeminiProvider
from tollgate.providers.http import UpstreamHttp
from tollgate.providers.openai_compat import (
    OpenAICompatibleProvider,
    classify_deepseek,
    classify_openai,
    classify_openrouter,
    deepseek_usage,
    openai_usage,
    openrouter_usage,
)
from tollgate.providers.yandex import YandexProvider

DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "deepseek": "https://api.deepseek.com",
    "yandex": "https://llm.api.cloud.yandex.net",
    "openrouter": "https://openrouter.ai/api/v1",
}


def build_adapters(http: UpstreamHttp) -> dict[str, ProviderClient]:
    adapters: list[ProviderClient] = [
        OpenAICompatibleProvider(
            "openai",
            http,
            default_base_url=DEFAULT_BASE_URLS["openai"],
            usage_from=openai_usage,
            classify=classify_openai("openai"),
        ),
        OpenAICompatibleProvider(
            "deepseek",
            http,
            default_base_url=DEFAULT_BASE_URLS["deepseek"],
            usage_from=deepseek_usage,
            classify=classify_deepseek,
        ),
        OpenAICompatibleProvider(
            "openrouter",
            http,
            default_base_url=DEFAULT_BASE_URLS["openrouter"],
            usage_from=openrouter_usage,
            classify=classify_openrouter,
            models_path="/key",
        ),
        OpenAICompatibleProvider(
            "custom",
            http,
            default_base_url="",
            usage_from=openai_usage,
            classify=classify_openai("custom"),
        ),
        AnthropicProvider(http),
        GeminiProvider(http),
        YandexProvider(http),
    ]
    return {adapter.name: adapter for adapter in adapters}
