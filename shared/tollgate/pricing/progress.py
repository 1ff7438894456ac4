"""A rich progress bar over a price refresh (fetch → check → write per source, then commit)."""

from __future__ import annotations

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from tollgate.pricing.refresh import PriceRefresher, RefreshReport

STAGES = ("fetch", "check", "write")


def run_with_progress(refresher: PriceRefresher, *, force: bool = False) -> RefreshReport:
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[stage]}"), TimeElapsedColumn()
    ) as progress:
        total = len(refresher.sources) * len(STAGES) + 1
        task = progress.add_task("pricing refresh", total=total, stage="")

        def on_stage(source: str, stage: str) -> None:
            progress.update(task, advance=1, stage=f"{source}: {stage}")

        report = refresher.refresh(force=force, progress=on_stage)
        progress.update(task, completed=total, stage="done")
    return report
