"""The packaged price snapshot: a compact, gzip'd subset of a LiteLLM price map (same format, only
the token-priced entries and the fields the parser reads), seeded on first start.

Build it from a feed file (the shipped one is built from litellm 1.109.1's map):
    python -m tollgate.pricing.snapshot model_prices_and_context_window.json
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


_DECIMAL_MARK = "__decimal__"
_MARKED = re.compile(f'"{_DECIMAL_MARK}([^"]+)"')


def _mark_decimal(value: Any) -> Any:
    """json only knows floats: mark Decimals as strings, then unquote them to exact number text."""
    if isinstance(value, Decimal):
        return f"{_DECIMAL_MARK}{value}"
    raise TypeError(type(value).__name__)


def build_snapshot(feed_path: Path, out_path: Path = SNAPSHOT_PATH) -> int:
    raw = feed_path.read_bytes()
    document = json.loads(raw, parse_float=Decimal)
    models = _compact(document)
    payload = {
        "format": FORMAT,
        "source_sha256": hashlib.sha256(raw).hexdigest(),
        "generated_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "models": models,
    }
    text = _MARKED.sub(r"\1", json.dumps(payload, default=_mark_decimal, separators=(",", ":"), sort_keys=True))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_bytes(gzip.compress(text.encode(), mtime=0))
    return len(models)


@cache
def load_snapshot(path: Path = SNAPSHOT_PATH) -> tuple[ParsedFeed, datetime]:
    """Parsed once per process (the result is only read)."""
    payload = json.loads(gzip.decompress(path.read_bytes()), parse_float=Decimal)
    if payload.get("format") != FORMAT:
        raise ValueError(f"unknown snapshot format {payload.get('format')!r}")
    version = f"snapshot:{payload['source_sha256'][:12]}"
    return parse_litellm(payload["models"], version), datetime.fromisoformat(payload["generated_at"])


def seed_snapshot(session: Session, path: Path = SNAPSHOT_PATH) -> int:
    """Seed the packaged prices when no feed has ever written a row. Returns rows written."""
    has_feed_rows = session.scalars(
        select(ModelPrice.id).where(ModelPrice.source.in_(("litellm", "openrouter"))).limit(1)
    ).first()
    if has_feed_rows is not None:
        return 0
    feed, generated_at = load_snapshot(path)
    report = apply_feed(session, feed, {}, generated_at)
    record_seed(session, feed.source, feed.version, report.models, generated_at)
    return report.rows_written


def main() -> None:
    parser = argparse.ArgumentParser(description="Build the packaged LiteLLM price snapshot")
    parser.add_argument("feed", type=Path, help="a LiteLLM model_prices_and_context_window.json")
    parser.add_argument("--out", type=Path, default=SNAPSHOT_PATH)
    args = parser.parse_args()
    count = build_snapshot(args.feed, args.out)
    print(f"wrote {count} models to {args.out}")  # noqa: T201


if __name__ == "__main__":
    main()
