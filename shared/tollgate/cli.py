"""The ``tollgate`` command: run the local gateway and administer it."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tollgate.cli_usage import usage_app
from tollgate.config import Settings

app = typer.Typer(help="Tollgate: an AI gateway with cost control.", no_args_is_help=True, add_completion=False)
workspace_app = typer.Typer(help="Workspaces (tenants).", no_args_is_help=True)
key_app = typer.Typer(help="Gateway keys.", no_args_is_help=True)
app.add_typer(workspace_app, name="workspace")
app.add_typer(key_app, name="key")
app.add_typer(usage_app, name="usage")

DbOption = Annotated[str | None, typer.Option("--db", help="SQLAlchemy URL (default: SQLite under ~/.tollgate)")]


def _services(db: str | None) -> Any:
    from tollgate.bootstrap import prepare_database
    from tollgate.wiring import Services

    overrides: dict[str, Any] = {"database_url": db} if db else {}
    services = Services(Settings(**overrides))
    prepare_database(services)
    return services


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8080,
    db: DbOption = None,
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
    run_server(services, host, port)


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


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
