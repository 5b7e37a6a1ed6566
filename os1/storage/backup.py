"""``os1 backup`` and ``os1 restore``: the whole store, copied while she runs and put back.

SQLite: SQLite's online backup API (``sqlite3.Connection.backup``), a page at a time
under one read transaction, so the copy is the database as it was at one moment however
much is written meanwhile (WAL mode: writers never wait for it). The copy is checked and
left in rollback-journal mode, one self-contained file. A restore refuses a store that an
os1 process has open, and an existing one without ``force``; what it replaces is kept
aside, never deleted. PostgreSQL: ``pg_dump``'s custom format, restored by
``pg_restore`` into an empty database (docs/DEPLOY.md). The vector index files
(``<db>.vectors/``) are left out: os1 rebuilds them from the database.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from os1.errors import InputError, StorageError
from os1.storage.db import Database
from os1.storage.migrations import MIGRATIONS
from os1.storage.private_files import FILE_MODE, private_dir, private_file

PAGES_PER_STEP = 1024
# The WAL index's "dead man switch" byte: every open connection holds a shared lock on
# it (sqlite.org/walformat.html, 2.3.1).
DMS_LOCK_OFFSET = 128
OnStart = Callable[[str, int], Callable[[int], None]]


@dataclass(frozen=True)
class Restored:
    path: Path
    aside: Path | None  # where the store it replaced was kept


def backup_sqlite(db_path: Path, dest: Path, *, force: bool = False,
                  on_start: OnStart | None = None) -> int:
    """Copy the store at ``db_path`` to ``dest`` (0600); returns its size in bytes."""
    if not db_path.is_file():
        raise StorageError(f"There is no os1 store at {db_path} to back up.")
    _check_dest(dest, force, db_path)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)
    try:
        with closing(sqlite3.connect(db_path, isolation_level=None)) as source:
            _copy(source, partial, "Backing up", on_start, snapshot=True)
        _check_store(partial, partial)
        os.replace(partial, dest)
    finally:
        _remove_with_companions(partial)
    return dest.stat().st_size


def restore_sqlite(backup: Path, db_path: Path, *, force: bool = False,
                   on_start: OnStart | None = None) -> Restored:
    """Put the backup at ``backup`` in place as the store at ``db_path``."""
    _check_backup(backup)
    if in_use(db_path):
        raise StorageError(f"os1 is running on {db_path}: a restore would pull the store "
                           "from under it.", "Stop os1 (chat, serve, talk) and try again.")
    if db_path.exists() and not force:
        raise InputError(f"There is an os1 store at {db_path} already.",
                         "Add --force to replace it (it is kept aside, not deleted).")
    partial = db_path.with_name(db_path.name + ".restoring")
    _remove_with_companions(partial)
    private_file(partial)
    try:
        with closing(sqlite3.connect(_read_only(backup), uri=True)) as source:
            _copy(source, partial, "Restoring", on_start, snapshot=False)
        _check_store(partial, backup)
        aside = _set_aside(db_path) if db_path.exists() else None
        os.replace(partial, db_path)
    finally:
        _remove_with_companions(partial)
    os.chmod(db_path, FILE_MODE)
    return Restored(db_path, aside)


def in_use(db_path: Path) -> bool:
    """Whether another process has the store open: it holds a shared lock on its WAL
    index. Call it with no connection of this process open on the store (closing the
    descriptor used here drops any lock this process holds on that file)."""
    shm = db_path.with_name(db_path.name + "-shm")
    try:
        descriptor = os.open(shm, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.lockf(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, DMS_LOCK_OFFSET)
    except OSError:
        return True
    else:
        fcntl.lockf(descriptor, fcntl.LOCK_UN, 1, DMS_LOCK_OFFSET)
        return False
    finally:
        os.close(descriptor)


# -- PostgreSQL ----------------------------------------------------------------------------


def backup_postgres(url: str, dest: Path, *, force: bool = False) -> int:
    """``pg_dump --format=custom`` of the database at ``url`` to ``dest`` (0600)."""
    _check_dest(dest, force, None)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)
    try:
        _run_pg("pg_dump", url, "--format=custom", f"--file={partial}")
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest.stat().st_size


def restore_postgres(dump: Path, url: str) -> None:
    """``pg_restore`` of ``dump`` into the database at ``url``, which must hold no os1
    store (a restore over one would mix the two)."""
    if not dump.is_file():
        raise InputError(f"There is no file {dump}.")
    db = Database.open(url, migrate=False)
    try:
        if "schema_migrations" in db.table_names():
            raise InputError(f"The database at {db.location} holds an os1 store already.",
                             "Restore into a new, empty database (createdb), then point "
                             "os1 at it; docs/DEPLOY.md shows how.")
    finally:
        db.close()
    _run_pg("pg_restore", url, "--no-owner", "--exit-on-error", "--single-transaction",
            str(dump))


def _run_pg(program: str, url: str, *args: str) -> None:
    """Run a PostgreSQL client with the URL's password in its environment, not its
    arguments (which any local user can read in the process list)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    found = shutil.which(program)
    if found is None:
        raise StorageError(f"{program} is not installed.",
                           "Install PostgreSQL's client programs: apt install postgresql-client")
    params = conninfo_to_dict(url)
    password = params.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    result = subprocess.run([found, f"--dbname={make_conninfo('', **params)}", *args], env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StorageError(f"{program} failed: {result.stderr.strip()[-500:]}")


# -- SQLite's pieces -----------------------------------------------------------------------


def _copy(source: sqlite3.Connection, target: Path, what: str, on_start: OnStart | None,
          *, snapshot: bool) -> None:
    """Copy ``source`` into the file ``target`` a step at a time. With ``snapshot``, one
    read transaction is held around all the steps, so writers elsewhere don't make the
    backup start over (it copies the database as it was when it began)."""
    with _reading(source, snapshot):
        total = int(source.execute("PRAGMA page_count").fetchone()[0])
        progress = on_start(what, total) if on_start is not None and total else None
        done = [0]

        def step(_status: int, remaining: int, pages: int) -> None:
            if progress is not None:
                progress(max(0, pages - remaining - done[0]))
                done[0] = pages - remaining

        with closing(sqlite3.connect(target, isolation_level=None)) as copy:
            source.backup(copy, pages=PAGES_PER_STEP, progress=step)
            # one self-contained file: no WAL beside it to lose or to need
            copy.execute("PRAGMA journal_mode=DELETE")


@contextmanager
def _reading(source: sqlite3.Connection, snapshot: bool) -> Iterator[None]:
    if not snapshot:
        yield
        return
    source.execute("BEGIN")
    try:
        source.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
        yield
    finally:
        source.execute("COMMIT")


def _check_backup(backup: Path) -> None:
    if not backup.is_file():
        raise InputError(f"There is no file {backup}.")
    wal = backup.with_name(backup.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise InputError(f"{backup} has a write-ahead log beside it: it is a store in use, "
                         "not a backup.", "Make a backup with: os1 backup PATH")
    _check_store(backup, backup)


def _check_store(path: Path, named: Path) -> None:
    """``path`` is a whole os1 store this os1 can open; ``named`` is how to call it."""
    try:
        with closing(sqlite3.connect(_read_only(path), uri=True)) as db:
            found = [str(r[0]) for r in db.execute("PRAGMA quick_check(5)")]
            version = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{named} can't be read as an os1 store: {exc}.",
                         "Restore a file made by os1 backup.") from exc
    if found != ["ok"]:
        raise InputError(f"{named} is damaged: {'; '.join(found)[:300]}.")
    if int(version or 0) > len(MIGRATIONS):
        raise InputError(f"{named} was made by a newer os1 (schema {version}; this one has "
                         f"{len(MIGRATIONS)}).", "Upgrade os1, then restore it.")


def _set_aside(db_path: Path) -> Path:
    """The store at ``db_path`` moved aside whole (its WAL checkpointed into it first;
    any -wal or -shm left goes with it, as does its vector index folder)."""
    try:
        with closing(sqlite3.connect(db_path, isolation_level=None)) as old:
            old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError:
        pass  # not a database (any more): moved aside as it is
    aside = db_path.with_name(f"{db_path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm", ".vectors"):
        here = db_path.with_name(db_path.name + suffix)
        if here.exists():
            os.replace(here, aside.with_name(aside.name + suffix))
    return aside


def _check_dest(dest: Path, force: bool, source: Path | None) -> None:
    if dest.is_dir():
        raise InputError(f"{dest} is a directory.", "Give a file name, like os1-backup.db.")
    if source is not None and dest.exists() and dest.resolve() == source.resolve():
        raise InputError(f"{dest} is the store itself.", "Back up to another file.")
    if dest.exists() and not force:
        raise InputError(f"{dest} already exists.", "Choose another name, or add --force.")
    private_dir(dest.parent)


def _read_only(path: Path) -> str:
    """A URI that reads ``path`` without writing anything beside it (no -wal or -shm)."""
    return f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"


def _remove_with_companions(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
