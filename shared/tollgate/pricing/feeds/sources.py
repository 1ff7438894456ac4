"""The configured feeds: URL from settings → fetch → parse. An empty URL disables a source."""

from __future__ import annotations

from functools import partial

from tollgate.config import Settings
from tollgate.pricing.feeds import FeedLoader, ParsedFeed
from tollgate.pricing.feeds.fetch import fetch_json
from tollgate.pricing.feeds.litellm import parse_litellm
from tollgate.pricing.feeds.openrouter import parse_openrouter


def load_litellm(url: str, max_bytes: int) -> ParsedFeed:
    fetched = fetch_json(url, max_bytes=max_bytes)
    return parse_litellm(fetched.document, fetched.sha256[:12])


def load_openrouter(url: str, max_bytes: int) -> ParsedFeed:
    fetched = fetch_json(url, max_bytes=max_bytes)
    return parse_openrouter(fetched.document, fetched.sha256[:12])


def feed_loaders(settings: Settings) -> dict[str, FeedLoader]:
    loaders: dict[str, FeedLoader] = {}
    if settings.pricing_litellm_url:
        loaders["litellm"] = partial(load_litellm, settings.pricing_litellm_url, settings.pricing_max_feed_bytes)
    if settings.pricing_openrouter_url:
        loaders["openrouter"] = partial(
            load_openrouter, settings.pricing_openrouter_url, settings.pricing_max_feed_bytes
        )
    return loaders
