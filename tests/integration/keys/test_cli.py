"""The CLI: credentials (key from stdin or an env var, never echoed), key listing, master key rewrap."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import make_services
from tollgate.cli import app
from tollgate.config import Settings
from tollgate.db.models import ProviderCredential
from tollgate.errors import InternalError
from tollgate.keys.local_wrapping import build_local_wrapper
from tollgate.keys.master_key import FILE_NAME, decode_key
from tollgate.keys.wrapping import credential_context

runner = CliRunner()


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input, env=env)
    return result.exit_code, result.output


@pytest.fixture
def workspace(db_url: str) -> str:
    code, out = invoke("workspace", "create", "acme", "--db", db_url)
    assert code == 0, out
    return out.strip()


def test_credential_lifecycle_never_echoes_the_key(db_url: str, workspace: str) -> None:
    secret = f"sk-cli-{uuid.uuid4().hex}"
    code, out = invoke(
        "credential", "add", "--workspace", workspace, "--provider", "openai", "--name", "main", "--primary",
        "--db", db_url, input=secret + "\n",
    )  # fmt: skip
    assert code == 0, out
    assert secret not in out and f"sk-...{secret[-4:]}" in out and "primary" in out
    credential_id = out.split()[0]
    code, out = invoke("credential", "list", "--workspace", workspace, "--db", db_url)
    assert code == 0 and credential_id in out and secret not in out
    rotated = f"sk-cli-rotated-{uuid.uuid4().hex}"
    code, out = invoke(
        "credential", "rotate", credential_id, "--workspace", workspace, "--api-key-env", "NEW_KEY", "--db", db_url,
        env={"NEW_KEY": rotated},
    )  # fmt: skip
    assert code == 0, out
    assert rotated not in out and rotated[-4:] in out
    # the stored key is the rotated one
    services = make_services(db_url, Path(Settings().home))
    try:
        (target,) = services.credentials.targets_for(uuid.UUID(workspace), "openai")
        assert target.api_key == rotated
    finally:
        services.close()
    # a provider without an adapter in this install: the test command fails clearly
    code, out = invoke("credential", "test", credential_id, "--workspace", workspace, "--db", db_url)
    assert code == 1 and "failed:" in out and rotated not in out
    code, out = invoke("credential", "delete", credential_id, "--workspace", workspace, "--db", db_url)
    assert code == 0
    code, out = invoke("credential", "delete", credential_id, "--workspace", workspace, "--db", db_url)
    assert code == 1 and "No such credential" in out


def test_cli_rejects_bad_input(db_url: str, workspace: str) -> None:
    base = ["credential", "add", "--workspace", workspace, "--name", "x", "--db", db_url]
    code, out = invoke(*base, "--provider", "nosuch", input="sk-abc\n")
    assert code != 0 and "provider" in out
    code, out = invoke(*base, "--provider", "yandex", input="AQVN" + "k" * 30 + "\n")
    assert code == 1 and "folder_id" in out
    code, out = invoke(*base, "--provider", "openai", "--api-key-env", "UNSET_VAR_FOR_TEST")
    assert code != 0 and "UNSET_VAR_FOR_TEST" in out
    code, out = invoke(*base, "--provider", "openai", "--base-url", "http://evil.example", input="sk-abcdef\n")
    assert code == 1 and "base_url" in out and "sk-abcdef" not in out


def test_key_list_shows_last_used_but_no_secret(db_url: str, workspace: str) -> None:
    code, secret = invoke("key", "create", "--workspace", workspace, "--name", "ci", "--db", db_url)
    assert code == 0
    code, out = invoke("key", "list", "--workspace", workspace, "--db", db_url)
    assert code == 0 and "ci" in out and "never" in out
    assert secret.strip() not in out and secret.strip().split("_")[2] not in out


def test_rewrap_replaces_the_master_key_and_keeps_secrets_readable(db_url: str, workspace: str) -> None:
    home = Path(Settings().home)
    secret = f"sk-rewrap-{uuid.uuid4().hex}"
    code, out = invoke("credential", "add", "--workspace", workspace, "--provider", "anthropic", "--name", "a",
                       "--db", db_url, input=secret + "\n")  # fmt: skip
    assert code == 0, out
    old_key = decode_key((home / FILE_NAME).read_text())
    # When the master key is rotated
    code, out = invoke("keys", "rewrap", "--yes", "--db", db_url)
    assert code == 0, out
    assert "re-wrapped 1 credentials" in out
    new_key = decode_key((home / FILE_NAME).read_text())
    assert new_key != old_key and not (home / (FILE_NAME + ".new")).exists()
    # Then a fresh process reads the secret with the new key, and the old key opens nothing
    services = make_services(db_url, home)
    try:
        (target,) = services.credentials.targets_for(uuid.UUID(workspace), "anthropic")
        assert target.api_key == secret
        with services.sessions() as session:
            row = session.query(ProviderCredential).one()
        with pytest.raises(InternalError):
            build_local_wrapper(old_key).decrypt(
                row.key_ciphertext or b"", credential_context(row.workspace_id, row.id)
            )
    finally:
        services.close()


def test_rewrap_is_all_or_nothing(db_url: str, workspace: str) -> None:
    home = Path(Settings().home)
    for name in ("a", "b"):
        invoke("credential", "add", "--workspace", workspace, "--provider", "openai", "--name", name, "--db", db_url,
               input=f"sk-{name}-{uuid.uuid4().hex}\n")  # fmt: skip
    services = make_services(db_url, home)
    try:
        with services.sessions.begin() as session:
            broken = session.query(ProviderCredential).filter_by(name="b").one()
            broken.key_ciphertext = b"garbage"
        with services.sessions() as session:
            before = {r.name: r.key_ciphertext for r in session.query(ProviderCredential)}
    finally:
        services.close()
    old_key = (home / FILE_NAME).read_text()
    code, out = invoke("keys", "rewrap", "--yes", "--db", db_url)
    assert code == 1 and "could not be decrypted" in out
    assert (home / FILE_NAME).read_text() == old_key and not (home / (FILE_NAME + ".new")).exists()
    services = make_services(db_url, home)
    try:
        with services.sessions() as session:
            assert {r.name: r.key_ciphertext for r in session.query(ProviderCredential)} == before
    finally:
        services.close()
