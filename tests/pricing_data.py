"""The price feeds the pricing tests read, and what each set of files contains.

Always: the committed cut under ``tests/fixtures/`` (regenerate it with ``tests/fixtures/derive.py``).
Also, when ``TOLLGATE_FULL_FEEDS`` names a folder holding the full public files
(``litellm_model_prices.json`` from litellm 1.109.1, ``litellm_model_prices_old.json`` from litellm
1.63.0, ``openrouter_models.json``), the same tests run on those and assert the full files' counts.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.support import REPO
from tollgate.pricing.snapshot import SNAPSHOT_PATH

FIXTURES = REPO / "tests" / "fixtures"
SNAPSHOT_MODELS = 3652  # (provider, model) rows of the packaged snapshot (litellm 1.109.1's map)
SNAPSHOT_OPENROUTER_MODELS = 368  # OpenRouter models priced in the packaged snapshot
FULL_FEEDS_ENV = "TOLLGATE_FULL_FEEDS"
LITELLM = "litellm_model_prices.json"
LITELLM_OLD = "litellm_model_prices_old.json"
OPENROUTER = "openrouter_models.json"


@dataclass(frozen=True)
class FeedSet:
    """A folder with the three feed files and the counts the parsers and a refresh produce on it.

    ``diff`` is a forced old → new LiteLLM refresh: (added, changed, removed, unchanged) models.
    """

    name: str
    folder: Path
    litellm_models: int  # (provider, model) rows of the current map
    litellm_skipped: int  # entries not priced per token
    litellm_duplicates: int  # keys collapsing onto another key's (provider, model)
    old_models: int
    old_skipped: int
    openrouter_models: int
    openrouter_skipped: int  # routers priced "-1"
    openrouter_free: int
    keys_added: int  # old → new map keys, documentation stubs excluded
    keys_removed: int
    removed_priced: int  # distinct (provider, model) of the removed token-priced keys
    repriced_keys: int  # common keys whose input or output price moved
    diff: tuple[int, int, int, int]

    def path(self, name: str) -> Path:
        return self.folder / name

    def load(self, name: str) -> Any:
        """The document with every JSON number as ``Decimal`` (exact, as the parsers read it)."""
        return json.loads(self.path(name).read_text(), parse_float=Decimal)


FIXTURE_FEEDS = FeedSet(
    name="fixtures",
    folder=FIXTURES,
    litellm_models=144,
    litellm_skipped=11,
    litellm_duplicates=19,
    old_models=126,
    old_skipped=4,
    openrouter_models=35,
    openrouter_skipped=3,
    openrouter_free=5,
    keys_added=88,
    keys_removed=44,
    removed_priced=43,
    repriced_keys=54,
    diff=(61, 55, 43, 28),
)


def full_feeds() -> FeedSet | None:
    """The full public files when ``TOLLGATE_FULL_FEEDS`` points at them, else None."""
    folder = os.environ.get(FULL_FEEDS_ENV)
    if not folder:
        return None
    return FeedSet(
        name="full",
        folder=Path(folder),
        litellm_models=3652,
        litellm_skipped=880,
        litellm_duplicates=19,
        old_models=722,
        old_skipped=83,
        openrouter_models=368,
        openrouter_skipped=3,
        openrouter_free=33,
        keys_added=4077,  # 4,078 with `fallback_generalizations`
        keys_removed=331,
        removed_priced=308,
        repriced_keys=54,
        diff=(3237, 81, 307, 334),
    )


def feed_set_params() -> list[Any]:
    """pytest params: the committed fixtures always, the full files when configured (else a skip)."""
    full = full_feeds()
    skip = pytest.mark.skip(reason=f"set {FULL_FEEDS_ENV}=<folder with the full public feed files> to run on them")
    return [
        pytest.param(FIXTURE_FEEDS, id="fixtures"),
        pytest.param(full, id="full") if full else pytest.param(None, id="full", marks=skip),
    ]


def snapshot_document() -> dict[str, Any]:
    """The packaged snapshot's models as a LiteLLM map (the current map, cut to the fields we read).

    Serving it as the LiteLLM feed is serving the map the snapshot was built from, as far as
    the parser can tell: a refresh after seeding finds every model unchanged.
    """
    payload = json.loads(gzip.decompress(SNAPSHOT_PATH.read_bytes()), parse_float=Decimal)
    models: dict[str, Any] = payload["models"]
    return models


def snapshot_openrouter_document() -> dict[str, Any]:
    """The packaged snapshot's OpenRouter models as an OpenRouter ``/api/v1/models`` answer."""
    payload = json.loads(gzip.decompress(SNAPSHOT_PATH.read_bytes()), parse_float=Decimal)
    return {"data": payload["openrouter"]["data"]}
