"""Benchmark: full refresh of the current LiteLLM map (~3.7k token-priced models) from an empty
database, then the same feed again (must write 0 rows). Target: ≤ 5 s, 0 rows on the second run.

    python -m tests.bench.bench_pricing_refresh            # PostgreSQL (pgserver) and SQLite
    python -m tests.bench.bench_pricing_refresh --litellm-map model_prices_and_context_window.json
    TEST_DATABASE_URL=postgresql://... python -m tests.bench.bench_pricing_refresh

Without ``--litellm-map`` the feed is the packaged snapshot's models (the 3,652 token-priced
models of litellm 1.109.1's map, cut to the fields the parser reads).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.bench.harness import add_litellm_map_option, litellm_map_file
from tests.integration.pricing.conftest import FeedServer
from tests.support import make_services, start_postgres


def run(label: str, database_url: str, home: Path, feed_url: str) -> None:
    print(f"[{label}] migrating an empty database ...", flush=True)
    services = make_services(
        database_url, home, pricing_seed_snapshot=False, pricing_litellm_url=feed_url, pricing_openrouter_url=""
    )
    try:
        for attempt in ("from empty", "unchanged"):
            print(f"[{label}] refreshing {attempt} ...", flush=True)
            started = time.perf_counter()
            report = services.pricing_refresher.refresh()
            elapsed = time.perf_counter() - started
            litellm = report.source("litellm")
            print(
                f"[{label}] {attempt:<10} {elapsed:6.2f} s  rows written {report.rows_written:5d}  "
                f"(added {litellm.added}, changed {litellm.changed}, unchanged {litellm.unchanged})",
                flush=True,
            )
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_litellm_map_option(parser)
    args = parser.parse_args()
    feeds = FeedServer()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        feed_url = feeds.serve_file("/litellm.json", litellm_map_file(args.litellm_map, home))
        print("starting PostgreSQL ...", flush=True)
        admin_url, server = start_postgres(home)
        try:
            admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(text("DROP DATABASE IF EXISTS bench_pricing"))
                connection.execute(text("CREATE DATABASE bench_pricing"))
            admin.dispose()
            from sqlalchemy.engine import make_url

            pg_url = make_url(admin_url).set(database="bench_pricing").render_as_string(hide_password=False)
            run("postgresql", pg_url, home, feed_url)
        finally:
            if server is not None:
                server.cleanup()
        run("sqlite", f"sqlite:///{home / 'bench.db'}", home, feed_url)
    feeds.close()


if __name__ == "__main__":
    main()
