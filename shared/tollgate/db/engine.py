"""Engine and session factory for SQLite (embedded) and PostgreSQL (psycopg 3).

SQLite transactions start with ``BEGIN IMMEDIATE`` so concurrent writers queue on the busy
timeout instead of failing when a read transaction upgrades to a write; long read-only work
(exports) opts out with ``execution_options(tollgate_readonly=True)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use psycopg 3 for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def create_db_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int | None = None,
    pool_timeout_s: float = 30.0,
    pool_recycle_s: int = 300,
    server_prepare: bool = True,
) -> Engine:
    """``max_overflow`` defaults to twice ``pool_size``. Behind RDS Proxy (Lambda) the settings are one
    connection per container, no overflow, a 10 s borrow timeout and ``server_prepare=False``: psycopg
    prepares a statement server-side after 5 runs, and a prepared statement pins the proxy session
    to the container (no multiplexing)."""
    url = normalize_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _create_sqlite_engine(url, parsed.database)
    connect_args: dict[str, Any] = {"connect_timeout": 5}
    if not server_prepare:
        connect_args["prepare_threshold"] = None
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2 if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout_s,
        # No pre-ping: it costs a round trip on every checkout (two per request). Connections are
        # recycled well before RDS Proxy's idle timeout instead, and a dropped connection
        # invalidates the pool so only the requests in flight fail (closed, with a 503).
        pool_pre_ping=False,
        pool_recycle=pool_recycle_s,
        connect_args=connect_args,
    )


def _create_sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        readonly = conn.get_execution_options().get("tollgate_readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


def engine_of(sessions: sessionmaker[Session]) -> Engine:
    """The engine a session factory is bound to: hot paths open Core connections on it directly
    (no ORM session per transaction). Raises ``TypeError`` when the factory is bound to no engine."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return bind


@contextmanager
def one_statement(engine: Engine) -> Iterator[Connection]:
    """A connection for a transaction of exactly ONE statement. On PostgreSQL it runs in autocommit
    (a single statement is atomic on its own: one round trip instead of BEGIN, the statement and
    COMMIT, and as durable once it returns); on SQLite it is an ordinary ``engine.begin()``
    transaction (``BEGIN IMMEDIATE``: SQLite's autocommit isolation would undo the engine's own
    transaction handling). Use it only around one statement: two would commit separately."""
    if engine.dialect.name != "postgresql":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        yield connection.execution_options(isolation_level="AUTOCOMMIT")
