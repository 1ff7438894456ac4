"""Fetch a JSON feed over httpx with explicit timeouts and a size cap; numbers parse as Decimal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

MAX_FEED_BYTES = 32 * 1024 * 1024
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


class FeedError(Exception):
    """The feed could not be fetched or is not the JSON we expect."""


@dataclass(frozen=True)
class FetchedFeed:
    document: Any
    sha256: str


def parse_json(raw: bytes) -> FetchedFeed:
    """Raises ``FeedError`` when the bytes are not JSON."""
    try:
        document = json.loads(raw, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"not valid JSON: {exc.__class__.__name__}") from None
    return FetchedFeed(document, hashlib.sha256(raw).hexdigest())


def fetch_json(url: str, client: httpx.Client | None = None, max_bytes: int = MAX_FEED_BYTES) -> FetchedFeed:
    """GET a feed and parse it. Raises ``FeedError`` for a network error, a non-200 answer, a body
    above ``max_bytes`` or invalid JSON."""
    own = client is None
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=True)
    try:
        with http.stream("GET", url, headers={"accept": "application/json"}) as response:
            if response.status_code != 200:
                raise FeedError(f"HTTP {response.status_code} from {url}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FeedError(f"feed larger than {max_bytes} bytes")
                chunks.append(chunk)
    except httpx.HTTPError as exc:
        raise FeedError(f"cannot fetch {url}: {exc.__class__.__name__}") from None
    finally:
        if own:
            http.close()
    return parse_json(b"".join(chunks))
