"""The embedded SQLite database: WAL mode, writers serialised by ``BEGIN IMMEDIATE``.

Why WAL and FULL sync: a second ``os1`` process may read while the first writes, and a
message the user saw acknowledged must survive a crash or power cut.

Why one lock around every use of the connection: threads share it (the reminder bell,
the warm-up). A SELECT still being read in one thread keeps a read snapshot open, and
another thread's ``BEGIN IMMEDIATE`` on that connection then fails at once with
"database is locked" as soon as another process has written since; and a statement from
one thread would otherwise run inside another thread's transaction. So reads are fetched
in full under the lock, and a transaction holds it from BEGIN to COMMIT.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

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
from os1.storage.migrations import MIGRATIONS
from os1.storage.private_files import FILE_MODE, private_file

BUSY_TIMEOUT_S = 30.0


class SQLiteDatabase(Database):
    backend = "sqlite"

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.connection = connection
        self.path = path
        self.location = str(path)
        self._lock = threading.RLock()

    @classmethod
    def connect(cls, path: Path, migrate: bool = True) -> SQLiteDatabase:
        try:
            if str(path) != ":memory:":
                _make_private(path)
            connection = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=FULL")
            connection.execute("PRAGMA foreign_keys=ON")
            database = cls(connection, path)
            if migrate:
                database.migrate()
        except sqlite3.DatabaseError as exc:
            if _is_full(exc):
                raise disk_full(path) from exc
            raise StorageError(
                f"Can't open the database at {path}: {exc}.",
                "If the file is damaged, move it aside (os1 starts a new one) and keep the copy.",
            ) from exc
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise disk_full(path) from exc
            raise StorageError(f"Can't create the data directory {path.parent}: {exc}.") from exc
        return database

    @property
    def migrations(self) -> list[tuple[int, Migration]]:
        return list(enumerate(MIGRATIONS, start=1))

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        with self._lock:
            try:
                cursor = self.connection.execute(sql, params)
                return FetchedRows(cursor.fetchall(), cursor.rowcount)
            except sqlite3.OperationalError as exc:
                if _is_full(exc):  # a checkpoint, or a sort spilling to a temporary file
                    raise disk_full(self.path) from exc
                raise

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield from self._transaction()

    @contextmanager
    def read_snapshot(self) -> Iterator[sqlite3.Connection]:
        """One read transaction, from its first read to the end (in WAL mode other
        processes go on writing; this process's other threads wait for the lock)."""
        with self._lock:
            self.connection.execute("BEGIN")
            try:
                self.connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
                yield self.connection
            finally:
                self.connection.execute("COMMIT")

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A failed write, COMMIT included, is rolled back and leaves no transaction open.
        SQLite may have rolled it back itself ("database or disk is full" does): a
        ROLLBACK then failed with "no transaction is active", hiding the real error, and
        a COMMIT that failed left the transaction open, so that every later write on the
        connection failed even after the disk had room again."""
        try:
            self.connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _is_full(exc):
                raise disk_full(self.path) from exc
            raise StorageError(
                f"The database {self.path} stayed locked for {BUSY_TIMEOUT_S:.0f} s: {exc}.",
                "Another os1 process is writing; try again in a moment.",
            ) from exc
        try:
            yield self.connection
            self.connection.execute("COMMIT")
        except BaseException as exc:
            self._roll_back()
            if isinstance(exc, sqlite3.IntegrityError) and "UNIQUE" in str(exc):
                raise DuplicateError(f"Already there: {exc}.") from exc
            if isinstance(exc, sqlite3.Error) and _is_full(exc):
                raise disk_full(self.path) from exc
            raise

    def _roll_back(self) -> None:
        if self.connection.in_transaction:
            with suppress(sqlite3.Error):  # the error that brought us here is the one to tell
                self.connection.execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()

    def damage(self) -> str | None:
        """SQLite's quick_check (every page and index entry read, without cross-checking
        indexes to rows: seconds at a million memories). A server opened with a few
        corrupt pages said "loading" for ever and answered bare 500s (issue 25)."""
        try:
            found = [str(r[0]) for r in self.connection.execute("PRAGMA quick_check(5)")]
        except sqlite3.DatabaseError as exc:
            return str(exc)
        return None if found == ["ok"] else "; ".join(found)

    def json_integers(self, column: str, alias: str) -> str:
        return f"json_each({column}) AS {alias}"

    def text_search(self, columns: str, terms: Sequence[str], context_weight: float
                    ) -> tuple[str, list[object]]:
        # Each term a quoted FTS5 string, so nothing a user typed is query syntax.
        match = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
        return (f"SELECT {columns}, -bm25(memories_fts, 1.0, {context_weight}) AS rank"
                " FROM memories_fts JOIN memories AS m ON m.id = memories_fts.rowid"
                " WHERE memories_fts MATCH ?", [match])

    def scrub_forgotten(self, table: Forgettable = "memories") -> None:
        # The pages were zeroed as they were freed (secure_delete, on for this connection
        # from the first forget); merge the FTS index's segments so no old one keeps the
        # words (memories only: messages have no index), then checkpoint and truncate the
        # WAL: until then the database file keeps the page as it was before, and the WAL's
        # older frames the text as it was written (if another process keeps reading past
        # the busy timeout, later writes overwrite them instead).
        if table == "memories":
            with self.transaction() as tx:
                tx.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
        self.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def prepare_forget(self) -> None:
        """Zero freed pages instead of leaving the text in them."""
        self.execute("PRAGMA secure_delete = ON")

    def table_names(self) -> list[str]:
        # PRAGMA table_list types an FTS table 'virtual' and its own tables 'shadow'.
        rows = self.execute("SELECT name FROM pragma_table_list WHERE schema = 'main'"
                            " AND type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'"
                            " ORDER BY name")
        return [str(r[0]) for r in rows]

    def column_names(self, table: str) -> list[str]:
        rows = self.execute("SELECT name FROM pragma_table_xinfo(?) WHERE hidden = 0"
                            " ORDER BY cid", (table,))
        return [str(r[0]) for r in rows]


def disk_full(path: Path) -> DiskFull:
    return DiskFull(
        f"The disk is full: os1 can't write to {path}.",
        "Free some space on that disk (`df -h` shows how much is left), then try again."
        " Everything stored before is intact; what couldn't be written was not kept.")


def _is_full(exc: sqlite3.Error) -> bool:
    """SQLITE_FULL: "database or disk is full" (no room on the disk, or the database
    grew to its ``max_page_count``)."""
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) == sqlite3.SQLITE_FULL


def _make_private(path: Path) -> None:
    """The database file its owner's alone; SQLite gives its -wal and -shm the same mode."""
    private_file(path)
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, FILE_MODE)
