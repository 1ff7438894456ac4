"""Hot-path statements compiled once per dialect and run on the DBAPI cursor of a Core connection.

Each execute call runs a handful of statements (reserve, mark started, settle, usage row). Through
``Connection.execute`` each one pays SQLAlchemy's per-statement machinery (execution context,
compiled-cache lookup, parameter construction, result set-up) and, on PostgreSQL, psycopg's
parsing of ``%(name)s`` placeholders (not cached for statements over 4 KB, like the usage rollup
upsert). ``compiled(statement, dialect)`` compiles the ONE SQLAlchemy definition of a statement
once per dialect instead: the SQL text, its parameters in order with their types' bind processors
(``Money`` scaling on SQLite, ``UtcDateTime``, ``Uuid``, JSON…), fixed values of literal binds and
scalar column defaults, and the result processors of its RETURNING columns. ``run``/``run_many``
then execute it on the checked-out DBAPI connection: on PostgreSQL with psycopg's ``RawCursor``
(native ``$1`` placeholders, so psycopg parses nothing and prepares the statement server-side once
it ran ``prepare_threshold`` times on that connection), on SQLite with ``?`` placeholders
(sqlite3's statement cache).

The transaction stays SQLAlchemy's: the statements run inside the caller's ``engine.begin()``
block on its connection, so commit, rollback and pool return are unchanged. Driver errors are
raised as SQLAlchemy's ``DBAPIError`` subclasses (what ``Connection.execute`` raises), and a
disconnect invalidates the connection, as SQLAlchemy would.

A statement whose shape depends on its parameters (an expanding ``IN``) cannot be compiled once:
use ``ids_in(column, dialect)`` (``= ANY(array)`` on PostgreSQL, ``IN (SELECT value FROM
json_each(?))`` on SQLite) with an ``IdList`` parameter instead.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Connection, String, Uuid, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement, ColumnElement, Insert
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator, TypeEngine

_Processor = Callable[[Any], Any] | None
_MISSING = object()


class IdList(TypeDecorator[list[uuid.UUID]]):
    """A list of UUIDs as ONE parameter: a ``uuid[]`` array on PostgreSQL, a JSON array of the
    32-hex-digit strings ``Uuid`` stores on SQLite (read back with ``json_each``)."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(Uuid()))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: Sequence[uuid.UUID] | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return list(value)
        return json.dumps([item.hex for item in value])


def ids_in(column: ColumnElement[Any], dialect: str, name: str = "ids") -> ColumnElement[bool]:
    """``column`` is one of the ids in the ``IdList`` parameter ``name``, as a statement that
    compiles once whatever the number of ids."""
    ids = bindparam(name, type_=IdList())
    if dialect == "postgresql":
        return column == func.any(ids)
    return column.in_(select(func.json_each(ids).table_valued("value").c.value))


class Compiled:
    """One statement compiled for one dialect. ``run`` executes it once and returns its RETURNING
    rows (processed, as tuples); ``run_many`` executes it once per parameter set (executemany).
    Parameters are given by bind name (a column's key for an INSERT's values)."""

    __slots__ = ("_binds", "_dialect", "_error", "_named", "_raw", "_results", "_types", "returns", "sql")

    def __init__(self, statement: ClauseElement, dialect: Dialect, column_keys: Sequence[str] | None = None) -> None:
        raw = dialect.name == "postgresql"
        target = _numeric_dollar(dialect) if raw else dialect  # psycopg's RawCursor: $1, $2…
        keys = list(column_keys) if column_keys else None
        compiled = cast(SQLCompiler, statement.compile(dialect=target, column_keys=keys))
        names = list(compiled.positiontup or ()) if compiled.positional else list(compiled.binds)
        fixed: dict[str, Any] = {}
        inserted = {id(column) for column in compiled.insert_prefetch}
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            default = column.default if id(column) in inserted else column.onupdate
            if default is None or not default.is_scalar:
                raise ValueError(f"{column.key}: a computed default; pass the value instead")
            fixed[column.key] = default.arg  # type: ignore[attr-defined]  # a ScalarElementColumnDefault
        binds: list[tuple[str, Any, _Processor]] = []
        for name in names:
            bind = compiled.binds[name]
            value = fixed.get(name, _MISSING)
            if value is _MISSING and bind.value is not None and not bind.required:
                value = bind.value
            binds.append((name, value, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        self.sql = compiled.string
        self._binds = tuple(binds)
        self._named = not compiled.positional
        self._raw = raw
        self.returns = bool(getattr(statement, "_returning", ()))
        self._types: tuple[TypeEngine[Any], ...] = (
            tuple(c.type.dialect_impl(dialect) for c in statement.exported_columns)  # type: ignore[attr-defined]
            if self.returns
            else ()
        )
        self._results: tuple[_Processor, ...] | None = None  # set from the first result's column types
        self._dialect = dialect
        self._error: type[Exception] = dialect.loaded_dbapi.Error

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The DBAPI parameters for ``values`` (processed, in placeholder order).
        Raises ``KeyError`` for a parameter that has neither a value nor a default."""
        out = []
        for name, default, process in self._binds:
            value = values.get(name, default)
            if value is _MISSING:
                raise KeyError(name)
            out.append(value if process is None else process(value))
        if self._named:
            return dict(zip((name for name, _, _ in self._binds), out, strict=True))
        return tuple(out)

    def run(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Execute once in ``connection``'s transaction; the RETURNING rows (``[]`` without RETURNING).
        Raises ``sqlalchemy.exc.DBAPIError`` (its subclass for the driver error)."""
        params = self.parameters(values)
        rows = self._execute(connection, params, many=False)
        processors = self._results
        if not rows or processors is None or not any(processors):
            return rows
        return [
            tuple(value if process is None else process(value) for value, process in zip(row, processors, strict=True))
            for row in rows
        ]

    def run_many(self, connection: Connection, values: Sequence[Mapping[str, Any]]) -> None:
        """Execute once per mapping (executemany; no RETURNING rows) in ``connection``'s transaction.
        A single mapping is a plain execute (psycopg's executemany sets up a pipeline)."""
        if len(values) == 1:
            self._execute(connection, self.parameters(values[0]), many=False)
        elif values:
            self._execute(connection, [self.parameters(one) for one in values], many=True)

    def _execute(self, connection: Connection, params: Any, *, many: bool) -> list[tuple[Any, ...]]:
        pooled = connection.connection
        driver = pooled.dbapi_connection
        cursor = _raw_cursor(driver) if self._raw else driver.cursor()  # type: ignore[union-attr]
        try:
            if many:
                cursor.executemany(self.sql, params)
                return []
            cursor.execute(self.sql, params)
            if not self.returns:
                return []
            if self._results is None:
                self._results = self._processors(cursor.description)
            return list(cursor.fetchall())
        except self._error as error:
            dialect = connection.dialect
            lost = dialect.is_disconnect(error, driver, cursor)  # type: ignore[arg-type]
            wrapped = DBAPIError.instance(
                self.sql, params, error, self._error, dialect=dialect, connection_invalidated=lost
            )
            if lost:
                connection.invalidate(wrapped)
            raise wrapped from error
        finally:
            cursor.close()

    def _processors(self, description: Sequence[Sequence[Any]]) -> tuple[_Processor, ...]:
        """The RETURNING columns' result processors, for the driver's column types (as SQLAlchemy
        sets them up from ``cursor.description``)."""
        return tuple(
            kind.result_processor(self._dialect, column[1])
            for kind, column in zip(self._types, description, strict=True)
        )


def _numeric_dollar(dialect: Dialect) -> Dialect:
    """A copy of the (initialized) PostgreSQL dialect that renders ``$1, $2…`` placeholders and
    no longer doubles ``%`` (psycopg's ``RawCursor`` does not parse the query)."""
    target = copy.copy(dialect)
    target.paramstyle = "numeric_dollar"
    target.positional = True
    target.identifier_preparer = target.preparer(target)
    return target


def _raw_cursor(driver: Any) -> Any:
    import psycopg  # only on PostgreSQL

    return psycopg.RawCursor(driver)


def insert_rows(connection: Connection, statement: Insert, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (column name → value; a column left out takes its scalar default) in
    ``connection``'s transaction: ``statement`` compiled once per shape of row (which columns are
    set), one executemany per shape (a plain execute for a single row)."""
    shapes: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    for keys, same in shapes.items():
        compiled(statement, connection.dialect, keys).run_many(connection, same)


@lru_cache(maxsize=512)
def compiled(statement: ClauseElement, dialect: Dialect, column_keys: tuple[str, ...] | None = None) -> Compiled:
    """``statement`` compiled for ``dialect`` (cached: pass statements built once, e.g. by an
    ``lru_cache`` factory). ``column_keys``: the columns an INSERT's rows set, when not all of them.
    Raises ``ValueError`` when a column left out has a computed (callable or SQL) default."""
    return Compiled(statement, dialect, column_keys)
