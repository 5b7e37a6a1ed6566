"""The database, on one of two backends: an embedded SQLite file (one user, one machine:
the default) or a PostgreSQL server (several ``os1 serve`` workers sharing one state).

Every store writes SQL once, in the dialect both understand: ``?`` placeholders,
``INSERT ... RETURNING id``, ``ON CONFLICT``. What differs (full-text search, JSON
arrays, how a write takes its lock, what "forgotten" means on disk) is a method here, so
no store needs to know which backend it runs on.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Literal, Protocol

from os1.errors import StorageError

# Both backends' rows: by position or by column name.
Row = Any
Params = Sequence[object]
# The tables whose text a user can have forgotten (``scrub_forgotten``).
Forgettable = Literal["memories", "messages"]


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...
    def fetchone(self) -> Row: ...  # None when there are no more rows
    def fetchall(self) -> list[Row]: ...
    def __iter__(self) -> Iterator[Row]: ...


class FetchedRows:
    """Rows read in full while the connection was held, so nothing is left open on it
    (a half-read SELECT would pin an old snapshot, or hold a pooled connection)."""

    def __init__(self, rows: list[Row], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    def fetchone(self) -> Row | None:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Row]:
        rest, self._next = self._rows[self._next:], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Row]:
        return iter(self.fetchall())


class Connection(Protocol):
    """What a transaction (and a migration) is handed."""

    def execute(self, sql: str, params: Params = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Params]) -> Any: ...


Migration = Callable[[Connection], None]


class DuplicateError(StorageError):
    """A write broke a uniqueness rule (a username already taken, say)."""


class Database(ABC):
    """One handle on the database; open with ``Database.open``. Safe to share between
    threads: reads and transactions take what they need for their own duration."""

    backend: str
    location: str

    @staticmethod
    def open(target: Path | str, migrate: bool = True) -> Database:
        """``target``: a file path (SQLite) or a ``postgresql://`` URL. ``migrate=False``
        for a reader of a database its opener already migrated."""
        if is_postgres_url(str(target)):
            from os1.storage.postgres import PostgresDatabase

            return PostgresDatabase.connect(str(target), migrate)
        from os1.storage.sqlite import SQLiteDatabase

        return SQLiteDatabase.connect(Path(target), migrate)

    @abstractmethod
    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """A read, or one write that needs no transaction around it."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction; writers are serialised, so two processes never interleave
        half-done writes (the second waits). A broken uniqueness rule raises
        ``DuplicateError`` after the rollback."""

    def read_snapshot(self) -> AbstractContextManager[object]:
        """Reads through ``execute`` inside it all see the database as it was when it
        began, while others go on writing (an export of someone who is talking with her).
        This default holds the write lock instead: consistent, but writers wait."""
        return self.transaction()

    @abstractmethod
    def close(self) -> None: ...

    def damage(self) -> str | None:
        """What is wrong with the database's own files, or None. A backend that keeps its
        own integrity (PostgreSQL) has nothing to report here."""
        return None

    # -- what the dialects spell differently ---------------------------------------------

    @abstractmethod
    def json_integers(self, column: str, alias: str) -> str:
        """A FROM item that unpacks the JSON integer array in ``column`` into rows whose
        ``<alias>.value`` is an integer."""

    @abstractmethod
    def text_search(self, columns: str, terms: Sequence[str], context_weight: float
                    ) -> tuple[str, list[object]]:
        """``(sql, params)`` selecting ``columns`` (of ``memories AS m``) plus ``rank``
        (higher is better) for memories whose content or context hold any of ``terms``;
        the caller adds its own WHERE conditions after ``AND`` and the ORDER BY."""

    @abstractmethod
    def prepare_forget(self) -> None:
        """Before memories are deleted or messages blanked (some backends must be told to
        zero what they free)."""

    @abstractmethod
    def scrub_forgotten(self, table: Forgettable = "memories") -> None:
        """After rows of ``table`` were deleted or blanked: make their text unrecoverable
        from the database's own files as far as this backend allows."""

    # -- schema --------------------------------------------------------------------------

    def table_names(self) -> list[str]:
        """The tables that hold rows of their own, read from the live schema (not a
        full-text index's own tables, which are derived from them)."""
        raise NotImplementedError

    def column_names(self, table: str) -> list[str]:
        """The stored, writable columns of ``table`` in order, from the live schema (a
        generated column is derived, and can't be written)."""
        raise NotImplementedError

    def scrub_person(self) -> None:
        """After a person's rows are deleted everywhere: as ``scrub_forgotten``, over
        every table (PostgreSQL vacuums them all)."""
        self.scrub_forgotten()

    @property
    @abstractmethod
    def migrations(self) -> list[tuple[int, Migration]]:
        """``(version, migration)`` in order; the version numbers are shared by both
        backends, so a schema version means the same tables on either."""

    def schema_version(self) -> int:
        row = self.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def migrate(self) -> None:
        import time

        newest = self.migrations[-1][0]
        with self.transaction() as tx:  # its lock keeps two starting workers apart
            tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                " name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)")
            row = tx.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
            current = int(row[0] or 0)
            if current > newest:
                raise StorageError(
                    f"The database {self.location} has schema version {current}, newer than"
                    f" this os1 understands ({newest}).", "Upgrade os1 to open it.")
            for version, migration in self.migrations:
                if version > current:
                    migration(tx)
                    tx.execute("INSERT INTO schema_migrations(version, name, applied_at)"
                               " VALUES (?,?,?)", (version, migration.__name__, time.time()))


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))

