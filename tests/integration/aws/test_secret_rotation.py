"""Credentials that survive rotation: the database login (real PostgreSQL) and the root key, both
read from Secrets Manager (moto) through a cache with a maximum age and re-read on failure."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sqlalchemy import create_engine, text

from tests.support import PostgresCluster
from tollgate.aws.db_auth import install_rotating_credentials, is_auth_failure
from tollgate.aws.rotating_secret import RotatingSecret
from tollgate.clock import SystemClock
from tollgate.db.engine import create_db_engine
from tollgate.errors import AuthenticationFailed
from tollgate.keys.auth import Authenticator


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


class Counting:
    """A Secrets Manager client that counts reads."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.reads = 0

    def get_secret_value(self, **kwargs: Any) -> Any:
        self.reads += 1
        return self.inner.get_secret_value(**kwargs)


def test_database_login_rereads_the_secret_when_the_rotated_role_is_refused(
    secrets: Any, postgres: PostgresCluster
) -> None:
    old, new = f"tg_a_{uuid.uuid4().hex[:6]}", f"tg_b_{uuid.uuid4().hex[:6]}"
    admin = create_engine(postgres.admin_url, isolation_level="AUTOCOMMIT")
    database = postgres.fresh_database()
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {old} LOGIN PASSWORD 'first'"))
    arn = secrets.create_secret(Name="db", SecretString=json.dumps({"username": old, "password": "first"}))["ARN"]
    client = Counting(secrets)
    engine = create_db_engine(database, pool_size=1, max_overflow=0, server_prepare=False)
    install_rotating_credentials(engine, RotatingSecret(arn, max_age_s=3600, client=client))
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == old
        # When the secret rotates (alternating users: a new role, the old one dropped) while the
        # container still holds the old credentials in its cache and in its pool
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE {new} LOGIN PASSWORD 'second'"))
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :u"), {"u": old})
            conn.execute(text(f"DROP ROLE {old}"))
        secrets.put_secret_value(SecretId=arn, SecretString=json.dumps({"username": new, "password": "second"}))
        engine.dispose()
        # Then the next connection is refused once, re-reads the secret and logs in as the new role
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_user")) == new
        assert client.reads == 2
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {database.rsplit('/', 1)[1].split('?')[0]} WITH (FORCE)"))
            conn.execute(text(f"DROP ROLE IF EXISTS {old}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {new}"))
        admin.dispose()


def test_other_connection_errors_are_not_auth_failures() -> None:
    class Refused(Exception):
        sqlstate = "28P01"

    assert is_auth_failure(Refused("whatever"))
    assert is_auth_failure(Exception('FATAL:  password authentication failed for user "x"'))
    assert not is_auth_failure(Exception("connection refused"))
    assert not is_auth_failure(Exception("timeout expired"))


class Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_rotated_root_key_works_at_once_and_rereads_are_throttled(secrets: Any) -> None:
    first, second = "tg_rootfirst0_" + "a" * 32, "tg_rootsecond_" + "b" * 32
    arn = secrets.create_secret(Name="root", SecretString=first)["ARN"]
    client, tick = Counting(secrets), Tick()
    secret = RotatingSecret(arn, max_age_s=3600, min_refresh_s=30, client=client, monotonic=tick)
    auth = Authenticator(None, SystemClock(), root_key=lambda refresh: secret.value(refresh=refresh))  # type: ignore[arg-type]
    assert auth.authenticate(first).role == "root"
    secrets.put_secret_value(SecretId=arn, SecretString=second)
    # the new root key is accepted immediately (an unknown key triggers one re-read)...
    auth._lookup = lambda _public_id: None  # type: ignore[method-assign,assignment]  # no gateway key by that id
    assert auth.authenticate(second).role == "root"
    with pytest.raises(AuthenticationFailed):
        auth.authenticate(first)
    reads = client.reads
    # ...and a stream of wrong keys within min_refresh_s costs no further Secrets Manager reads
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            auth.authenticate("tg_nosuchkey00_" + "c" * 32)
    assert client.reads == reads
    tick.now += 31
    with pytest.raises(AuthenticationFailed):
        auth.authenticate("tg_nosuchkey00_" + "c" * 32)
    assert client.reads == reads + 1


def test_lambda_pool_settings_pool_behind_rds_proxy(postgres: PostgresCluster) -> None:
    engine = create_db_engine(
        postgres.fresh_database(), pool_size=1, max_overflow=0, pool_timeout_s=10, server_prepare=False
    )
    try:
        pool: Any = engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (1, 0, 10)
        with engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            assert raw.prepare_threshold is None  # no server-side prepares: they pin proxy sessions
            for _ in range(8):  # psycopg would prepare after 5 runs otherwise
                conn.execute(text("SELECT 1"))
            assert conn.scalar(text("SELECT count(*) FROM pg_prepared_statements")) == 0
    finally:
        engine.dispose()
    local = create_db_engine(postgres.fresh_database())
    try:
        with local.connect() as conn:
            assert conn.connection.driver_connection.prepare_threshold == 5  # type: ignore[union-attr]
    finally:
        local.dispose()
