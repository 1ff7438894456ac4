"""The packaged price snapshot, seeded on first start: a compact, gzip'd subset of a LiteLLM price
map (same format, only the token-priced entries and the fields the parser reads) and of
OpenRouter's model list (only ``id``, the ``pricing`` fields, ``context_length`` and
``top_provider.max_completion_tokens``), so a fresh install prices ``openrouter/*`` too.

Build it from the two feed files (at generation time only; the shipped one is built from
litellm 1.109.1's map and an OpenRouter ``/api/v1/models`` download):
    python -m tollgate.pricing.snapshot litellm_model_prices.json --openrouter openrouter_models.json
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tollgate.db.models import ModelPrice
from tollgate.pricing.feeds import ParsedFeed
from tollgate.pricing.feeds.litellm import SKIP_KEYS, is_used_field, parse_litellm
from tollgate.pricing.feeds.openrouter import parse_openrouter
from tollgate.pricing.refresh import apply_feed
from tollgate.pricing.status import record_seed

SNAPSHOT_PATH = Path(__file__).resolve().parent.parent / "data" / "litellm_snapshot.json.gz"
FORMAT = "tollgate-litellm-snapshot/1"


def _compact(document: dict[str, Any]) -> dict[str, Any]:
    models: dict[str, Any] = {}
    for key, entry in document.items():
        if key in SKIP_KEYS or not isinstance(entry, dict):
            continue
        if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
            continue
        models[key] = {name: value for name, value in entry.items() if is_used_field(name)}
    return models


_OPENROUTER_PRICING = ("prompt", "completion", "input_cache_read", "input_cache_write", "internal_reasoning")


def _compact_openrouter(document: dict[str, Any]) -> list[dict[str, Any]]:
    models: list[dict[str, Any]] = []
    for model in document.get("data") or []:
        pricing = model.get("pricing") if isinstance(model, dict) else None
        if not isinstance(pricing, dict) or not isinstance(model.get("id"), str):
            continue
        entry: dict[str, Any] = {
            "id": model["id"],
            "pricing": {k: pricing[k] for k in _OPENROUTER_PRICING if pricing.get(k) is not None},
        }
        if model.get("context_length"):
            entry["context_length"] = model["context_length"]
        top = model.get("top_provider")
        if isinstance(top, dict) and top.get("max_completion_tokens"):
            entry["top_provider"] = {"max_completion_tokens": top["max_completion_tokens"]}
        models.append(entry)
    return models


_DECIMAL_MARK = "__decimal__"
_MARKED = re.compile(f'"{_DECIMAL_MARK}([^"]+)"')


def _mark_decimal(value: Any) -> Any:
    """json only knows floats: mark Decimals as strings, then unquote them to exact number text."""
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{value}"
    raise TypeError(type(value).__name__)


def build_snapshot(feed_path: Path, out_path: Path = SNAPSHOT_PATH, openrouter_path: Path | None = None) -> int:
    """Write the snapshot; returns how many models it holds (both feeds)."""
    raw = feed_path.read_bytes()
    document = json.loads(raw, parse_float=Decimal)
    models = _compact(document)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "models": models,
    }
    count = len(models)
    if openrouter_path is not None:
        raw_or = openrouter_path.read_bytes()
        openrouter = _compact_openrouter(json.loads(raw_or))
        payload["openrouter"] = {"source_sha256": hashlib.sha256(raw_or).hexdigest(), "data": openrouter}
        count += len(openrouter)
    text = _MARKED.sub(r"\1", json.dumps(payload, default=_mark_decimal, separators=(",", ":"), sort_keys=True))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return count


@cache
def _payload(path: Path) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()), parse_float=Decimal)
    if payload.get("format") != FORMAT:
        raise ValueError(f"unknown snapshot format {payload.get('format')!r}")
    return payload


@cache
def load_snapshot(path: Path = SNAPSHOT_PATH) -> tuple[ParsedFeed, datetime]:
    """The LiteLLM part, parsed once per process (the result is only read)."""
    payload = _payload(path)
    version = f"snapshot:{payload['source_sha256'][:12]}"
    return parse_litellm(payload["models"], version), datetime.fromisoformat(payload["generated_at"])


@cache
def load_openrouter_snapshot(path: Path = SNAPSHOT_PATH) -> ParsedFeed | None:
    """The OpenRouter part (None in a snapshot built without it)."""
    part = _payload(path).get("openrouter")
    if not isinstance(part, dict):
        return None
    return parse_openrouter({"data": part["data"]}, f"snapshot:{part['source_sha256'][:12]}")


def seed_snapshot(session: Session, path: Path = SNAPSHOT_PATH) -> int:
    """Seed the packaged prices when no feed has ever written a row. Returns rows written."""
    has_feed_rows = session.scalars(
        select(ModelPrice.id).where(ModelPrice.source.in_(("litellm", "openrouter"))).limit(1)
    ).first()
    if has_feed_rows is not None:
        return 0
    feed, generated_at = load_snapshot(path)
    written = 0
    for part in (feed, load_openrouter_snapshot(path)):
        if part is None:
            continue
        report = apply_feed(session, part, {}, generated_at)
        record_seed(session, part.source, part.version, report.models, generated_at)
        written += report.rows_written
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the packaged LiteLLM price snapshot")
    parser.add_argument("feed", type=Path, help="a LiteLLM model_prices_and_context_window.json")
    parser.add_argument("--openrouter", type=Path, default=None, help="an OpenRouter /api/v1/models download")
    parser.add_argument("--out", type=Path, default=SNAPSHOT_PATH)
    args = parser.parse_args()
    count = build_snapshot(args.feed, args.out, args.openrouter)
    print(f"wrote {count} models to {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
