"""The pricing_updater Lambda (scheduled and API events), `tollgate pricing refresh`, the local timer."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.integration.pricing.conftest import FeedServer
from tests.pricing_data import FIXTURE_FEEDS, LITELLM, LITELLM_OLD, OPENROUTER
from tests.support import REPO, ROOT_KEY, load_event
from tollgate.bootstrap import local_jobs
from tollgate.cli import app
from tollgate.wiring import Services, set_services


def _handler_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "pricing_updater_handler", REPO / "functions/pricing_updater/handler.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DATA = FIXTURE_FEEDS
OLD_MODELS, (ADDED, CHANGED, REMOVED, _) = DATA.old_models, DATA.diff


class Context:
    function_name = "pricing_updater"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:pricing_updater"
    aws_request_id = "req-1"


@pytest.fixture
def handler(empty_services: Services) -> Any:
    set_services(empty_services)
    try:
        yield _handler_module().handler
    finally:
        set_services(None)


def test_scheduled_event_refreshes(handler: Any, empty_services: Services, feeds: FeedServer) -> None:
    feeds.serve_file("/litellm.json", DATA.path(LITELLM))
    feeds.serve_file("/openrouter.json", DATA.path(OPENROUTER))
    result = handler(load_event("pricing_updater/scheduled.json"), Context())
    assert result["ok"] is True and result["rows_written"] == DATA.litellm_models + DATA.openrouter_models
    again = handler(load_event("pricing_updater/scheduled.json"), Context())
    assert again["rows_written"] == 0


def test_api_event_needs_root_and_accepts_force(handler: Any, feeds: FeedServer) -> None:
    feeds.serve_file("/litellm.json", DATA.path(LITELLM_OLD))
    feeds.serve_file("/openrouter.json", DATA.path(OPENROUTER))
    event = load_event("pricing_updater/refresh.json")
    event["headers"] = {**event["headers"], "authorization": f"Bearer {ROOT_KEY}"}
    assert handler(event, Context())["statusCode"] == 200
    feeds.serve_file("/litellm.json", DATA.path(LITELLM))
    refused = json.loads(handler(event, Context())["body"])
    assert refused["ok"] is False and refused["sources"][0]["status"] == "rejected"
    forced = load_event("pricing_updater/refresh.json", body=json.dumps({"force": True}))
    forced["headers"] = event["headers"]
    response = handler(forced, Context())
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["ok"] is True and body["forced"] is True
    assert body["sources"][0]["removed"] == REMOVED
    # the sample event's placeholder key is not a valid key
    assert handler(load_event("pricing_updater/refresh.json"), Context())["statusCode"] == 401


def test_cli_refresh_shows_progress_and_counts(
    tmp_path: Path, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds.serve_file("/litellm.json", DATA.path(LITELLM_OLD))
    feeds.serve_file("/openrouter.json", DATA.path(OPENROUTER))
    monkeypatch.setenv("TOLLGATE_PRICING_LITELLM_URL", feeds.base + "/litellm.json")
    monkeypatch.setenv("TOLLGATE_PRICING_OPENROUTER_URL", feeds.base + "/openrouter.json")
    monkeypatch.setenv("TOLLGATE_PRICING_SEED_SNAPSHOT", "false")
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    first = runner.invoke(app, ["pricing", "refresh", "--db", db])
    assert first.exit_code == 0, first.output
    assert f"litellm     applied  added={OLD_MODELS}" in first.output
    feeds.serve_file("/litellm.json", DATA.path(LITELLM))
    refused = runner.invoke(app, ["pricing", "refresh", "--db", db])
    assert refused.exit_code == 1 and f"drops {REMOVED} of {OLD_MODELS} known models" in refused.output
    forced = runner.invoke(app, ["pricing", "refresh", "--force", "--db", db])
    assert forced.exit_code == 0 and f"added={ADDED} changed={CHANGED} removed={REMOVED}" in forced.output
    again = runner.invoke(app, ["pricing", "refresh", "--db", db])
    assert again.exit_code == 0 and "rows written: 0" in again.output


def test_serve_runs_the_refresh_on_a_timer(empty_services: Services, feeds: FeedServer) -> None:
    (job,) = [j for j in local_jobs(empty_services) if j.name == "pricing_refresh"]
    assert job.interval_s == empty_services.settings.pricing_refresh_interval_s
    feeds.serve_file("/litellm.json", DATA.path(LITELLM_OLD))
    feeds.serve_file("/openrouter.json", DATA.path(OPENROUTER))
    job.run()
    assert feeds.hits == ["/litellm.json", "/openrouter.json"]  # the local feed server, never the internet
