"""The SQLite layer: migrations, refusing bad files, WAL, per-user scoping, setup history."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from os1.errors import StorageError
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.migrations import MIGRATIONS
from os1.storage.setups import SetupStore
from tests.conftest import make_setup_record


def migration_rows(db: Database) -> list[tuple[int, str]]:
    rows = db.connection.execute(
        "SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def test_migrations_apply_in_order_and_are_recorded(db: Database) -> None:
    expected = [(n, m.__name__) for n, m in enumerate(MIGRATIONS, start=1)]
    assert migration_rows(db) == expected
    assert db.schema_version() == len(MIGRATIONS)
    tables = {r[0] for r in db.connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "messages", "setups", "schema_migrations"} <= tables


def test_reopening_is_idempotent_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "data" / "os1.db"
    first = Database.open(path)
    log = ConversationLog(first, "local")
    session = log.start_session("test")
    log.append(session, "user", "remember me")
    before = migration_rows(first)
    first.close()

    for _ in range(2):
        again = Database.open(path)
        assert migration_rows(again) == before
        assert [m.content for m in ConversationLog(again, "local").all()] == ["remember me"]
        again.close()


def test_database_from_a_newer_os1_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "os1.db"
    db = Database.open(path)
    db.connection.execute(
        "INSERT INTO schema_migrations(version, name, applied_at) VALUES (99, 'm099', 0)")
    db.close()
    with pytest.raises(StorageError) as caught:
        Database.open(path)
    assert "schema version 99" in str(caught.value)
    assert "Upgrade os1" in caught.value.hint


@pytest.mark.parametrize("content", [
    b"this is not a database, just some text a user saved here by mistake\n" * 100,
    b"hello",
    bytes(range(256)) * 20,
])
def test_a_file_that_is_not_a_database_gives_storage_error(tmp_path: Path,
                                                           content: bytes) -> None:
    path = tmp_path / "os1.db"
    path.write_bytes(content)
    with pytest.raises(StorageError) as caught:
        Database.open(path)
    message = str(caught.value)
    assert str(path) in message
    assert "not a database" in message
    assert "move it aside" in caught.value.hint
    assert path.read_bytes() == content, "a file we could not read must be left untouched"


def test_data_dir_that_cannot_be_created_gives_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data dir should be")
    with pytest.raises(StorageError) as caught:
        Database.open(blocker / "os1.db")
    assert "Can't create the data directory" in str(caught.value)


def test_wal_mode_is_on(db: Database) -> None:
    assert db.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with sqlite3.connect(db.path) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_messages_are_scoped_per_user(db: Database) -> None:
    alice, bob = ConversationLog(db, "alice"), ConversationLog(db, "bob")
    a_session = alice.start_session("test")
    alice.append(a_session, "user", "alice's secret")
    alice.append(a_session, "assistant", "I'll keep it.")
    b_session = bob.start_session("test")
    bob.append(b_session, "user", "bob here")

    assert [m.content for m in alice.all()] == ["alice's secret", "I'll keep it."]
    assert [m.content for m in bob.all()] == ["bob here"]
    assert [m.content for m in bob.recent(10)] == ["bob here"]
    assert bob.count() == 1 and alice.count() == 2
    last = bob.last()
    assert last is not None and last.content == "bob here"


def test_appending_to_another_users_session_raises_and_stores_nothing(db: Database) -> None:
    alice, bob = ConversationLog(db, "alice"), ConversationLog(db, "bob")
    a_session = alice.start_session("test")
    with pytest.raises(PermissionError):
        bob.append(a_session, "user", "sneaking in")
    with pytest.raises(PermissionError):
        bob.append(a_session + 1000, "user", "no such session")
    total = db.connection.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
    assert total == 0
    # The failed transactions were rolled back: the connection can still write.
    alice.append(a_session, "user", "still works")
    assert alice.count() == 1


def test_recent_returns_the_last_messages_oldest_first(db: Database) -> None:
    log = ConversationLog(db, "local")
    session = log.start_session("test")
    for n in range(10):
        log.append(session, "user", f"m{n}", at=1000.0 + n)
    assert [m.content for m in log.recent(3)] == ["m7", "m8", "m9"]
    assert [m.created_at for m in log.recent(2)] == [1008.0, 1009.0]
    assert ConversationLog(db, "nobody").last() is None


def test_message_status_is_kept(db: Database) -> None:
    log = ConversationLog(db, "local")
    session = log.start_session("test")
    log.append(session, "assistant", "I was say", status="interrupted")
    (message,) = log.all()
    assert message.status == "interrupted"
    assert message.role == "assistant"


def test_setup_history_keeps_old_records_newest_first(db: Database) -> None:
    store = SetupStore(db, "local")
    assert store.current() is None
    assert store.history() == []
    first = make_setup_record(companion_name="Juniper", created_at=1000.0)
    second = make_setup_record(companion_name="Wren", voice="male", created_at=2000.0)
    store.save(first)
    store.save(second)
    assert store.current() == second
    assert store.history() == [second, first]
    assert store.history(limit=1) == [second]
    assert SetupStore(db, "someone-else").current() is None


def test_setup_answers_round_trip_unicode(db: Database) -> None:
    store = SetupStore(db, "local")
    record = make_setup_record(answers={"name": "Zoë", "hope": "Quelqu'un — 你好 🌙"},
                               user_name="Zoë")
    store.save(record)
    assert store.current() == record
