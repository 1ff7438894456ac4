"""CLI for key custody: provider credentials, gateway key listing and re-wrapping under a new master key.

Provider keys are read from an environment variable you name (``--api-key-env``), from stdin when
it is not a terminal, or from a hidden prompt; they are never echoed or accepted as arguments
(arguments end up in shell history and ``ps``).
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from tollgate.cli_services import DbOption
from tollgate.cli_services import services_for as _services
from tollgate.errors import TollgateError
from tollgate.providers.registry import CREDENTIAL_PROVIDERS

credential_app = typer.Typer(help="Provider credentials (keys stored encrypted).", no_args_is_help=True)
keys_app = typer.Typer(help="Key custody: re-wrap stored secrets under a new local master key.", no_args_is_help=True)

T = TypeVar("T")
WorkspaceOption = Annotated[str, typer.Option("--workspace", help="workspace id")]
KeyEnvOption = Annotated[
    str | None, typer.Option("--api-key-env", help="read the provider key from this environment variable")
]


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except TollgateError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from None


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise typer.BadParameter(f"{what} must be a UUID") from None


def read_api_key(env_var: str | None) -> str:
    if env_var:
        value = os.environ.get(env_var, "")
        if not value:
            raise typer.BadParameter(f"environment variable {env_var} is empty or not set")
    elif not sys.stdin.isatty():
        value = sys.stdin.readline()
    else:
        value = typer.prompt("Provider API key", hide_input=True)
    value = value.strip()
    if not value or len(value) > 1024:
        raise typer.BadParameter("the API key must be 1..1024 characters")
    return value


def _line(row: Any) -> str:
    flags = ("primary " if row.is_primary else "") + ("" if row.is_active else "inactive")
    return f"{row.id}  {row.provider:<10} {row.name:<24} p={row.priority:<5} {row.key_hint or '-':<16} {flags}".rstrip()


@credential_app.command("add")
def credential_add(  # noqa: PLR0917 - one parameter per CLI option is how typer works
    workspace: WorkspaceOption,
    provider: Annotated[str, typer.Option(help=", ".join(CREDENTIAL_PROVIDERS))],
    name: Annotated[str, typer.Option(help="unique name in the workspace")],
    api_key_env: KeyEnvOption = None,
    base_url: Annotated[str | None, typer.Option(help="default: the provider's own")] = None,
    default_model: Annotated[str | None, typer.Option()] = None,
    folder_id: Annotated[str | None, typer.Option(help="Yandex Cloud folder id")] = None,
    priority: Annotated[int, typer.Option(help="lower is tried first")] = 100,
    primary: Annotated[bool, typer.Option("--primary", help="make it the workspace's primary")] = False,
    db: DbOption = None,
) -> None:
    """Add a provider credential; prints its id and key hint."""
    from tollgate.api.schemas.credentials import CredentialIn

    try:
        body = CredentialIn(
            provider=provider,
            name=name,
            api_key=read_api_key(api_key_env),
            base_url=base_url,
            default_model=default_model,
            options={"folder_id": folder_id} if folder_id else {},
            priority=priority,
            is_primary=primary,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc).splitlines()[0] + ": " + _field_errors(exc)) from None
    services = _services(db)
    row = _run(lambda: services.credential_service.create(_uuid(workspace, "workspace"), body.to_spec()))
    typer.echo(_line(row))


def _field_errors(exc: ValueError) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return ""
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors())


@credential_app.command("list")
def credential_list(workspace: WorkspaceOption, db: DbOption = None) -> None:
    services = _services(db)
    for row in services.credential_service.list_page(_uuid(workspace, "workspace"), 1000, None):
        typer.echo(_line(row))


@credential_app.command("rotate")
def credential_rotate(credential_id: str, workspace: WorkspaceOption, api_key_env: KeyEnvOption = None,
                      db: DbOption = None) -> None:  # fmt: skip
    """Replace a credential's key (the old ciphertext is overwritten in the same transaction)."""
    from pydantic import ValidationError

    from tollgate.api.schemas.credentials import RotateIn

    try:
        key = RotateIn(api_key=read_api_key(api_key_env)).api_key
    except ValidationError as exc:
        raise typer.BadParameter("api_key: " + _field_errors(exc)) from None
    services = _services(db)
    ws, cid = _uuid(workspace, "workspace"), _uuid(credential_id, "credential id")
    typer.echo(_line(_run(lambda: services.credential_service.rotate(ws, cid, key))))


@credential_app.command("delete")
def credential_delete(credential_id: str, workspace: WorkspaceOption, db: DbOption = None) -> None:
    services = _services(db)
    ws, cid = _uuid(workspace, "workspace"), _uuid(credential_id, "credential id")
    _run(lambda: services.credential_service.delete(ws, cid))
    typer.echo("deleted")


@credential_app.command("test")
def credential_test(credential_id: str, workspace: WorkspaceOption, db: DbOption = None) -> None:
    """Make the provider's cheapest authenticated call with the stored key."""
    from tollgate.keys.credential_check import check_target

    services = _services(db)
    ws, cid = _uuid(workspace, "workspace"), _uuid(credential_id, "credential id")
    result = check_target(services.providers, _run(lambda: services.credential_service.target_for(ws, cid)))
    if result.ok:
        typer.echo(f"ok ({result.latency_ms} ms)")
        return
    detail = f"{result.error.type}: {result.error.message}" if result.error else "no detail"
    typer.echo(f"failed: {detail}", err=True)
    raise typer.Exit(1)


@keys_app.command("rewrap")
def keys_rewrap(
    db: DbOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="do not ask for confirmation")] = False,
) -> None:
    """Replace the local master key and re-encrypt every stored secret with it, in one transaction."""
    from tollgate.keys.master_key import MasterKeyStore
    from tollgate.keys.master_key_rotation import rotate_master_key

    services = _services(db)
    if services.settings.key_backend != "local":
        typer.echo("error: rewrap replaces the local master key; with KMS, rotate the KMS key instead", err=True)
        raise typer.Exit(1)
    if not yes:
        typer.confirm("Generate a new master key and re-encrypt every stored secret?", abort=True)
    store = MasterKeyStore(services.settings.home, services.settings.master_key)
    outcome = _run(lambda: rotate_master_key(services.sessions, store, services.clock.now()))
    services.__dict__.pop("key_wrapper", None)  # this process switches to the new key at once
    services.credential_source.invalidate()
    typer.echo(f"re-wrapped {outcome.report.credentials} credentials and {outcome.report.channels} channel secrets")
    if outcome.stored_in == "pending":
        typer.echo(f"The master key comes from TOLLGATE_MASTER_KEY: set it to the content of {outcome.pending_path}")
        typer.echo("then delete that file. Until then the gateway cannot decrypt the stored secrets.")
    else:
        typer.echo(f"new master key stored in the {outcome.stored_in}; the old one is gone")
