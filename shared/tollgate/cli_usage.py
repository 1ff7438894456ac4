"""`tollgate usage export|report`: offline access to usage for a workspace (local or any DATABASE_URL)."""

from __future__ import annotations

import sys
import uuid
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer

from tollgate.cli_services import DbOption
from tollgate.cli_services import services_for as _services
from tollgate.money import usd_text

usage_app = typer.Typer(help="Usage: exports and spend reports.", no_args_is_help=True)

WorkspaceOption = Annotated[str, typer.Option("--workspace", help="workspace id")]
FromOption = Annotated[str | None, typer.Option("--from", help="start, ISO 8601 (naive = UTC); default 30 days ago")]
ToOption = Annotated[str | None, typer.Option("--to", help="end (exclusive), ISO 8601; default now")]


def _instant(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{name}: not an ISO 8601 date or datetime") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _workspace(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise typer.BadParameter("--workspace: not a workspace id (UUID)") from None


def _range(start_text: str | None, end_text: str | None) -> tuple[datetime, datetime]:
    end = _instant(end_text, "--to") or datetime.now(UTC)
    start = _instant(start_text, "--from") or end - timedelta(days=30)
    if start >= end:
        raise typer.BadParameter("--from must be earlier than --to")
    return start, end


@usage_app.command("export")
def export(
    workspace: WorkspaceOption,
    *,
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default: stdout)")] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl")] = "csv",
    start: FromOption = None,
    end: ToOption = None,
    db: DbOption = None,
) -> None:
    """Stream a workspace's usage records to a file, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tollgate.usage.export import ExportRequest
    from tollgate.usage.filters import UsageFilter

    if fmt not in ("csv", "jsonl"):
        raise typer.BadParameter("--format must be csv or jsonl")
    usage_filter = UsageFilter(_workspace(workspace), _instant(start, "--from"), _instant(end, "--to"))
    services = _services(db)
    total = services.usage.count(usage_filter)
    columns = (TextColumn("export"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with ExitStack() as stack:
        sink = stack.enter_context(out.open("wb")) if out else sys.stdout.buffer
        progress = stack.enter_context(Progress(*columns, transient=out is None, disable=out is None))
        task = progress.add_task("export", total=total)
        chunks = services.usage.export(ExportRequest(usage_filter, fmt), on_rows=lambda n: progress.advance(task, n))
        for chunk in chunks:
            sink.write(chunk)
    if out is not None:
        typer.echo(f"wrote {total} rows to {out}", err=True)


@usage_app.command("report")
def report(
    workspace: WorkspaceOption,
    *,
    start: FromOption = None,
    end: ToOption = None,
    chart: Annotated[Path | None, typer.Option("--chart", help="write daily cost per provider (.html or .svg)")] = None,
    db: DbOption = None,
) -> None:
    """Print spend by provider and model for a period; optionally chart daily cost per provider."""
    from rich.console import Console
    from rich.table import Table

    from tollgate.usage.filters import UsageFilter
    from tollgate.usage.summary import SummaryRequest

    if chart is not None and chart.suffix.lower() not in (".html", ".svg"):
        raise typer.BadParameter("--chart: write .html or .svg (PNG would need matplotlib; see docs/usage.md)")
    first, last = _range(start, end)
    usage_filter = UsageFilter(_workspace(workspace), first, last)
    services = _services(db)
    summary = services.usage.summary(SummaryRequest(usage_filter, "model"))
    total = summary.totals.cost_usd
    table = Table(title=f"Spend {first:%Y-%m-%d %H:%M} → {last:%Y-%m-%d %H:%M} UTC")
    for name in ("provider", "model", "requests", "success", "input tok", "output tok", "cost", "share"):
        table.add_column(name, justify="left" if name in ("provider", "model") else "right")
    for row in summary.rows():
        share = f"{row['cost_usd'] / total * 100:.1f}%" if total else "-"
        rate = f"{row['success_rate'] * 100:.1f}%" if row["success_rate"] is not None else "-"
        table.add_row(
            row["provider"],
            row["model"],
            str(row["requests"]),
            rate,
            f"{row['input_tokens']:,}",
            f"{row['output_tokens']:,}",
            usd_text(row["cost_usd"]),
            share,
        )
    table.add_section()
    table.add_row("total", "", str(summary.totals.requests), "", "", "", usd_text(total), "")
    Console(width=140).print(table)
    if chart is not None:
        _write_chart(services, usage_filter, summary, chart)
        typer.echo(f"chart written to {chart}")


def _write_chart(services: Any, usage_filter: Any, summary: Any, path: Path) -> None:
    from tollgate.usage.chart import render_html, render_svg
    from tollgate.usage.summary import SummaryRequest

    series: dict[str, dict[date, Decimal]] = {}
    for provider in sorted({row["provider"] for row in summary.rows()}):
        by_day = services.usage.summary(SummaryRequest(_with_provider(usage_filter, provider), "day"))
        series[provider] = {date.fromisoformat(r["day"]): r["cost_usd"] for r in by_day.rows()}
    first_day, last_day = usage_filter.start.date(), (usage_filter.end - timedelta(microseconds=1)).date()
    title = f"Daily cost per provider (USD), {first_day} to {last_day}"
    render = render_svg if path.suffix.lower() == ".svg" else render_html
    path.write_text(render(series, first_day, last_day, title), encoding="utf-8")


def _with_provider(usage_filter: Any, provider: str) -> Any:
    from dataclasses import replace

    return replace(usage_filter, provider=provider)
