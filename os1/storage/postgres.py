"""PostgreSQL: the same stores on a server that several ``os1 serve`` workers share.

Why one pool per URL and process: the server opens a database per request and per
person, and PostgreSQL allows a hundred connections, not thousands. Why a global advisory
lock in every write transaction: it gives exactly SQLite's ``BEGIN IMMEDIATE`` (one writer
at a time), which the stores rely on, for example when they re-check inside a transaction
that a memory is still current, and which keeps ids committed in the order they were
given, so the memory worker walking ``id > last`` never skips a row.

The stores' SQL is SQLite's; ``translate`` rewrites its few SQLite spellings once per
statement.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from os1.errors import DiskFull, StorageError
from os1.storage.db import (
    Cursor,
    Database,
    DuplicateError,
    FetchedRows,
    Forgettable,
    Migration,
    Params,
)
from os1.storage.migrations_postgres import POSTGRES_MIGRATIONS

try:
    import psycopg
    from psycopg_pool import ConnectionPool, PoolTimeout
except ImportError:  # pragma: no cover - depends on the installed extras
    psycopg = None  # type: ignore[assignment]

WRITE_LOCK = 0x05_1_0_5_1  # any constant: the key of the one advisory lock writers take
POOL_SIZE = 16
CONNECT_TIMEOUT_S = 10.0
WAIT_FOR_CONNECTION_S = 60.0

_registry: dict[str, PostgresDatabase] = {}
_registry_lock = threading.Lock()


class PostgresDatabase(Database):
    backend = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.location = _without_password(url)
        self._users = 0
        self._local = threading.local()
        self._pool = ConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, open=False, timeout=WAIT_FOR_CONNECTION_S,
            kwargs={"autocommit": True, "row_factory": _row_factory,
                    "connect_timeout": int(CONNECT_TIMEOUT_S)})

    @classmethod
    def connect(cls, url: str, migrate: bool = True) -> PostgresDatabase:
        """The process's handle on ``url`` (opened on first use, shared after that)."""
        if psycopg is None:
            raise StorageError("A postgresql:// database needs psycopg, which is not installed.",
                               "Install os1 with the server extra: pip install 'os1[server]'.")
        with _registry_lock:
            database = _registry.get(url)
            if database is None:
                database = cls(url)
                database._open()
                _registry[url] = database
            database._users += 1
        if migrate:
            try:
                database.migrate()
            except BaseException:
                database.close()
                raise
        return database

    def _open(self) -> None:
        try:
            # One plain connection first: a refused one fails at once, where the pool
            # would keep retrying until its timeout.
            psycopg.connect(self.url, connect_timeout=int(CONNECT_TIMEOUT_S)).close()
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except (PoolTimeout, psycopg.Error) as exc:
            self._pool.close()
            raise StorageError(
                f"Can't connect to the database at {self.location}: {_reason(exc)}.",
                "Check that PostgreSQL is running there and that the URL (host, port, user,"
                " password, database) is right.") from exc

    @property
    def migrations(self) -> list[tuple[int, Migration]]:
        return POSTGRES_MIGRATIONS

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        held: _Connection | None = getattr(self._local, "connection", None)
        if held is not None:  # inside this thread's transaction: see its own writes
            return held.execute(sql, params)
        with self._connection() as connection:
            result: Cursor = _Connection(connection).execute(sql, params)
            return result

    @contextmanager
    def transaction(self) -> Iterator[_Connection]:
        if getattr(self._local, "connection", None) is not None:
            raise RuntimeError("transactions do not nest")
        with self._connection() as connection:
            try:
                with connection.transaction():
                    wrapped = _Connection(connection)
                    wrapped.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))
                    self._local.connection = wrapped
                    try:
                        yield wrapped
                    finally:
                        self._local.connection = None
            except psycopg.errors.UniqueViolation as exc:
                raise DuplicateError(f"Already there: {_reason(exc)}.") from exc

    @contextmanager
    def read_snapshot(self) -> Iterator[_Connection]:
        """A read-only REPEATABLE READ transaction: one snapshot, no write lock taken."""
        if getattr(self._local, "connection", None) is not None:
            raise RuntimeError("transactions do not nest")
        with self._connection() as connection, connection.transaction():
            wrapped = _Connection(connection)
            wrapped.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            self._local.connection = wrapped
            try:
                yield wrapped
            finally:
                self._local.connection = None

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        try:
            with self._pool.connection() as connection:
                yield connection
        except PoolTimeout as exc:
            raise StorageError(
                f"No connection to {self.location} came free in {WAIT_FOR_CONNECTION_S:.0f} s.",
                "The database is overloaded or unreachable; try again in a moment.") from exc
        except psycopg.errors.DiskFull as exc:  # the transaction was rolled back
            raise DiskFull(f"The database server's disk is full: {_reason(exc)}.",
                           f"Free some space where PostgreSQL keeps {self.location}, then"
                           " try again. Everything stored before is intact.") from exc
        except psycopg.OperationalError as exc:
            raise StorageError(f"The database at {self.location} failed: {_reason(exc)}.",
                               "Check that PostgreSQL is running; try again.") from exc

    def close(self) -> None:
        with _registry_lock:
            self._users -= 1
            if self._users > 0:
                return
            _registry.pop(self.url, None)
        self._pool.close()

    def json_integers(self, column: str, alias: str) -> str:
        return (f"LATERAL (SELECT CAST(item AS BIGINT) AS value FROM"
                f" jsonb_array_elements_text(CAST({column} AS jsonb)) AS item) AS {alias}")

    def text_search(self, columns: str, terms: Sequence[str], context_weight: float
                    ) -> tuple[str, list[object]]:
        # One plainto_tsquery per term, ORed: what a user typed is never query syntax.
        query = " || ".join(["plainto_tsquery('english', ?)"] * len(terms))
        return (f"SELECT {columns}, ts_rank('{{0, 0, {context_weight}, 1}}', m.search, q.q)"
                f" AS rank FROM memories AS m, (SELECT {query} AS q) AS q"
                " WHERE m.search @@ q.q", list(terms))

    def prepare_forget(self) -> None:
        pass  # nothing to switch on: see scrub_forgotten

    def scrub_forgotten(self, table: Forgettable = "memories") -> None:
        # VACUUM frees the dead rows (a blanked message's old version is one) and index
        # entries for reuse; PostgreSQL does not zero them, so the bytes may stay in free
        # space and in the WAL until overwritten (docs/DEPLOY.md says how to go further).
        self.execute("VACUUM messages" if table == "messages" else "VACUUM memories")

    def scrub_person(self) -> None:
        """Every table vacuumed, as ``scrub_forgotten`` does memories (same limits)."""
        for table in self.table_names():
            self.execute(f'VACUUM "{table}"')

    def table_names(self) -> list[str]:
        rows = self.execute("SELECT table_name FROM information_schema.tables"
                            " WHERE table_schema = current_schema()"
                            " AND table_type = 'BASE TABLE' ORDER BY table_name")
        return [str(r[0]) for r in rows]

    def column_names(self, table: str) -> list[str]:
        rows = self.execute("SELECT column_name FROM information_schema.columns"
                            " WHERE table_schema = current_schema() AND table_name = ?"
                            " AND is_generated = 'NEVER' ORDER BY ordinal_position", (table,))
        return [str(r[0]) for r in rows]


class _Connection:
    """A psycopg connection speaking the stores' SQLite-flavoured SQL."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        cursor = self._connection.execute(translate(sql), _storable(params))
        rows = cursor.fetchall() if cursor.description is not None else []
        return FetchedRows(rows, cursor.rowcount)

    def executemany(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            with self._connection.cursor() as cursor:
                cursor.executemany(translate(sql), [_storable(r) for r in rows])


class _Row(tuple[Any, ...]):
    """Like ``sqlite3.Row``: by position or by column name."""

    names: dict[str, int]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self.names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self.names)


def _row_factory(cursor: Any) -> Any:
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    row_class = type("Row", (_Row,), {"names": names})
    return lambda values: row_class(values)


_REWRITES = [
    (re.compile(r"%"), "%%"),                    # a literal % (LIKE 'account:%')
    (re.compile(r"\?"), "%s"),                   # placeholders
    (re.compile(r"\+user_id\b"), "user_id"),      # SQLite's "don't use this index"
    (re.compile(r"\binstr\("), "strpos("),       # same arguments, same 1-based answer
]


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The stores' SQL for PostgreSQL. None of it holds ``?``, ``%`` or ``+`` inside a
    string literal, which is what makes these rewrites safe."""
    for pattern, replacement in _REWRITES:
        sql = pattern.sub(replacement, sql)
    return sql


def _storable(params: Params) -> tuple[object, ...]:
    """PostgreSQL's text cannot hold NUL, which SQLite's can: a NUL someone typed or
    pasted becomes U+FFFD (as undecodable bytes do everywhere in os1) instead of failing
    the whole write."""
    return tuple(p.replace("\x00", "\ufffd") if isinstance(p, str) else p for p in params)


def _without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def _reason(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
