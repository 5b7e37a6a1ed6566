"""os1 backup and restore (os1/storage/backup.py): SQLite's online backup taken while
another connection writes, restored into an identical store; a restore that refuses a
running or existing store (unless forced, when the old one is kept aside) and anything
that isn't a whole os1 backup; PostgreSQL's pg_dump and pg_restore, restored and
compared table by table."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from os1.errors import InputError, StorageError
from os1.storage.backup import (
    backup_postgres,
    backup_sqlite,
    in_use,
    restore_postgres,
    restore_sqlite,
)
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from tests.person_data import plant, schema_tables
from tests.postgres_server import PostgresServer


def every_row(db: Database) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (the full-text index's own tables too, on SQLite)."""
    if db.backend == "sqlite":
        tables = [str(r[0]) for r in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE"
            " 'CREATE VIRTUAL%'")]
    else:
        tables = schema_tables(db)
    return {t: sorted((tuple(r) for r in db.execute(f"SELECT * FROM {t}")), key=repr)
            for t in tables}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "home" / "os1.db"
    db = Database.open(path)
    plant(db, "local")
    plant(db, "amy")
    db.close()
    yield path


def opened(path: Path) -> Database:
    return Database.open(path, migrate=False)


def test_a_backup_is_the_store_as_it_was_while_another_writes(
        store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another connection commits between the backup's steps: the copy is the store as
    it was when the backup began, copied once (not started over at each write)."""
    monkeypatch.setattr("os1.storage.backup.PAGES_PER_STEP", 4)
    db = opened(store)
    before = every_row(db)
    writer = sqlite3.connect(store, isolation_level=None)
    steps: list[int] = []

    def on_start(_what: str, total: int) -> Callable[[int], None]:
        def advance(pages: int) -> None:
            steps.append(pages)
            writer.execute("INSERT INTO sessions(user_id, client, started_at)"
                           " VALUES ('x', 'committed meanwhile', 1)")
        return advance

    copy = tmp_path / "backups" / "os1-backup.db"
    size = backup_sqlite(store, copy, on_start=on_start)
    writer.close()
    assert len(steps) > 5 and sum(steps) == size // 4096, "in steps, none repeated"
    assert size == copy.stat().st_size > 0
    assert copy.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in copy.parent.iterdir()) == ["os1-backup.db"]
    backed_up = opened(copy)
    assert every_row(backed_up) == before
    assert backed_up.damage() is None
    backed_up.close()
    assert len(every_row(db)["sessions"]) == len(before["sessions"]) + len(steps)
    db.close()


def test_backup_then_restore_gives_an_identical_store(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "os1-backup.db"
    backup_sqlite(store, copy)
    target = tmp_path / "elsewhere" / "os1.db"
    restored = restore_sqlite(copy, target)
    assert restored.aside is None and target.stat().st_mode & 0o777 == 0o600
    original, again = opened(store), opened(target)
    assert every_row(again) == every_row(original)
    assert again.schema_version() == original.schema_version()
    ConversationLog(again, "local").start_session("after")  # it is a working store
    original.close()
    again.close()


def test_restore_over_a_store_needs_force_and_keeps_the_old_one(store: Path,
                                                                 tmp_path: Path) -> None:
    copy = tmp_path / "os1-backup.db"
    backup_sqlite(store, copy)
    db = opened(store)
    ConversationLog(db, "local").start_session("after the backup")
    later = every_row(db)
    db.close()
    with pytest.raises(InputError, match="There is an os1 store at"):
        restore_sqlite(copy, store)
    restored = restore_sqlite(copy, store, force=True)
    assert restored.aside is not None and restored.aside.exists()
    kept = opened(restored.aside)
    assert every_row(kept) == later, "what it replaced is kept whole"
    kept.close()
    db = opened(store)
    assert len(every_row(db)["sessions"]) == len(later["sessions"]) - 1
    db.close()


def test_restore_refuses_a_store_that_os1_has_open(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "os1-backup.db"
    backup_sqlite(store, copy)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]);"
         " db.execute('SELECT COUNT(*) FROM messages').fetchall(); print('open', flush=True);"
         " sys.stdin.read()", str(store)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == b"open\n"
        assert in_use(store)
        with pytest.raises(StorageError, match="os1 is running on"):
            restore_sqlite(copy, store, force=True)
    finally:
        holder.communicate(b"", timeout=10)
    assert not in_use(store)


def test_restore_refuses_what_is_not_a_whole_os1_backup(store: Path, tmp_path: Path) -> None:
    target = tmp_path / "new" / "os1.db"
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database at all, just words")
    with pytest.raises(InputError, match="can't be read as an os1 store"):
        restore_sqlite(notes, target)
    plain = tmp_path / "plain.db"
    with sqlite3.connect(plain) as other:
        other.execute("CREATE TABLE t (x)")
    with pytest.raises(InputError, match="can't be read as an os1 store"):
        restore_sqlite(plain, target)
    newer = tmp_path / "newer.db"
    backup_sqlite(store, newer)
    with sqlite3.connect(newer) as edited:
        edited.execute("INSERT INTO schema_migrations VALUES (999, 'm999', 0)")
    with pytest.raises(InputError, match="made by a newer os1"):
        restore_sqlite(newer, target)
    damaged = tmp_path / "damaged.db"
    backup_sqlite(store, damaged)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2: len(data) // 2 + 4096] = b"\xff" * 4096
    damaged.write_bytes(bytes(data))
    with pytest.raises(InputError, match=r"is damaged|disk image is malformed"):
        restore_sqlite(damaged, target)
    assert not target.exists(), "nothing put in place"


def test_a_backup_never_overwrites_without_force(store: Path, tmp_path: Path) -> None:
    copy = tmp_path / "os1-backup.db"
    copy.write_text("an older backup")
    with pytest.raises(InputError, match="already exists"):
        backup_sqlite(store, copy)
    assert copy.read_text() == "an older backup"
    with pytest.raises(InputError, match="the store itself"):
        backup_sqlite(store, store, force=True)
    backup_sqlite(store, copy, force=True)
    assert copy.read_bytes().startswith(b"SQLite format 3")


def test_postgres_backup_is_restored_by_pg_restore(postgres_server: PostgresServer,
                                                  tmp_path: Path) -> None:
    source, target = (_database(postgres_server, name) for name in ("os1_src", "os1_dst"))
    db = Database.open(source)
    plant(db, "local")
    plant(db, "amy")
    dump = tmp_path / "os1.dump"
    assert backup_postgres(source, dump) == dump.stat().st_size > 0
    assert dump.stat().st_mode & 0o777 == 0o600
    restore_postgres(dump, target)
    again = Database.open(target)
    assert every_row(again) == every_row(db)
    session = ConversationLog(again, "local").start_session("after")  # identities go on
    assert session > max(int(r[0]) for r in db.execute("SELECT id FROM sessions"))
    with pytest.raises(InputError, match="holds an os1 store already"):
        restore_postgres(dump, target)
    again.close()
    db.close()


def _database(server: PostgresServer, name: str) -> str:
    with psycopg.connect(server.admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return server.admin_url.rsplit("/", 1)[0] + f"/{name}"
