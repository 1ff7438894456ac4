"""The ``tollgate`` command: run the local gateway and administer it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tollgate.cli_keys import credential_app, keys_app
from tollgate.cli_services import DbOption
from tollgate.cli_services import services_for as _services
from tollgate.cli_usage import usage_app
from tollgate.config import Settings

app = typer.Typer(help="Tollgate: an AI gateway with cost control.", no_args_is_help=True, add_completion=False)
workspace_app = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)
key_app = typer.Typer(help="Gateway keys.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="key")
pricing_app = typer.Typer(help="Model prices.", no_args_is_help=True)
app.add_typer(pricing_app, name="pricing")
app.add_typer(credential_app, name="credential")
app.add_typer(keys_app, name="keys")
app.add_typer(usage_app, name="usage")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    db: DbOption = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Server processes (budgets stay exact: they share only the database)")
    ] = 1,
) -> None:
    """Run the gateway locally (migrations applied automatically)."""
    from tollgate.bootstrap import bootstrap
    from tollgate.server import serve as run_server
    from tollgate.wiring import Services, set_services

    overrides: dict[str, Any] = {"database_url": db} if db else {}
    services = Services(Settings(**overrides))
    set_services(services)
    result = bootstrap(services)
    typer.echo(f"Tollgate on http://{host}:{port}  (database: {_safe_url(services.database_url)})")
    if result.new_root_key:
        typer.echo("Root key (shown once, store it now):")
        typer.echo(f"  {result.new_root_key}")
    if workers > 1 and services.engine.dialect.name == "sqlite":
        typer.echo("SQLite: workers share one database file; writes are serialised (use PostgreSQL to scale).")
    run_server(services, host, port, workers=workers)


@app.command()
def migrate(db: DbOption = None) -> None:
    """Apply database migrations."""
    _services(db)
    typer.echo("database is up to date")


@workspace_app.command("create")
def workspace_create(name: str, db: DbOption = None) -> None:
    """Create a workspace and print its id."""
    services = _services(db)
    workspace = services.workspaces.create(name)
    typer.echo(str(workspace.id))


@workspace_app.command("list")
def workspace_list(db: DbOption = None) -> None:
    services = _services(db)
    for workspace in services.workspaces.list_page(500, None):
        typer.echo(f"{workspace.id}  {workspace.name}")


@key_app.command("create")
def key_create(
    workspace: Annotated[str, typer.Option("--workspace", help="workspace id")],
    name: Annotated[str, typer.Option(help="a label for the key")] = "cli",
    role: Annotated[str, typer.Option(help="admin or member")] = "admin",
    db: DbOption = None,
) -> None:
    """Create a gateway key; the secret is printed once."""
    import uuid

    if role not in ("admin", "member"):
        raise typer.BadParameter("role must be admin or member")
    services = _services(db)
    created = services.gateway_keys.create(uuid.UUID(workspace), name, role)
    typer.echo(created.plaintext)


@key_app.command("list")
def key_list(workspace: Annotated[str, typer.Option("--workspace", help="workspace id")], db: DbOption = None) -> None:
    """List gateway keys: id, public id, name, role, created, last used (secrets are never shown)."""
    import uuid

    services = _services(db)
    for key in services.gateway_keys.list_page(uuid.UUID(workspace), 1000, None):
        last_used = key.last_used_at.isoformat() if key.last_used_at else "never"
        state = " revoked" if key.revoked_at else ""
        created = f"{key.created_at:%Y-%m-%d}"
        typer.echo(f"{key.id}  tg_{key.public_id}_…  {key.name:<20} {key.role:<6} {created}  {last_used}{state}")


@key_app.command("revoke")
def key_revoke(
    key_id: str,
    workspace: Annotated[str, typer.Option("--workspace", help="workspace id")],
    db: DbOption = None,
) -> None:
    import uuid

    services = _services(db)
    services.gateway_keys.revoke(uuid.UUID(workspace), uuid.UUID(key_id))
    typer.echo("revoked")


@pricing_app.command("refresh")
def pricing_refresh(
    force: Annotated[
        bool, typer.Option("--force", help="apply even if a feed drops >20% of models or moves >10x")
    ] = False,
    db: DbOption = None,
) -> None:
    """Fetch the price feeds now and write what changed."""
    from tollgate.pricing.progress import run_with_progress

    services = _services(db)
    report = run_with_progress(services.pricing_refresher, force=force)
    for source in report.sources:
        typer.echo(
            f"{source.source:<11} {source.status:<8} added={source.added} changed={source.changed} "
            f"removed={source.removed} unchanged={source.unchanged} rows={source.rows_written}"
        )
        for problem in source.problems:
            typer.echo(f"  - {problem}")
    typer.echo(f"rows written: {report.rows_written}")
    if not report.ok:
        raise typer.Exit(code=1)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
