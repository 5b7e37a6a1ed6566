"""The storage layer on SQLite and PostgreSQL: migrations, refusing bad files and
unreachable servers, WAL, per-user scoping, setup history."""

from __future__ import annotations

import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from os1.config import Settings, load_settings
from os1.errors import ConfigError, StorageError
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.migrations import MIGRATIONS
from os1.storage.postgres import translate
from os1.storage.setups import SetupStore
from os1.storage.sqlite import SQLiteDatabase
from tests.conftest import make_setup_record
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.both_backends


def migration_rows(db: Database) -> list[tuple[int, str]]:
    rows = db.execute(
        "SELECT version, name FROM schema_migrations ORDER BY version").fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def table_names(db: Database) -> set[str]:
    sql = ("SELECT name FROM sqlite_master WHERE type = 'table'" if db.backend == "sqlite" else
           "SELECT table_name FROM information_schema.tables"
           " WHERE table_schema = current_schema()")
    return {str(r[0]) for r in db.execute(sql)}


def test_migrations_apply_in_order_and_are_recorded(db: Database) -> None:
    assert migration_rows(db) == [(n, m.__name__) for n, m in db.migrations]
    assert db.schema_version() == len(MIGRATIONS), "both backends: the same schema version"
    assert {"sessions", "messages", "setups", "memories", "moods", "accounts",
            "schema_migrations"} <= table_names(db)


def test_reopening_is_idempotent_and_keeps_data(settings: Settings) -> None:
    path = settings.storage
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


def test_database_from_a_newer_os1_is_refused(settings: Settings) -> None:
    path = settings.storage
    db = Database.open(path)
    db.execute(
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


@pytest.mark.sqlite_only
def test_wal_mode_is_on(db: Database) -> None:
    assert isinstance(db, SQLiteDatabase)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
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
    total = db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
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


def test_an_unreachable_postgresql_server_gives_storage_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StorageError) as caught:
        Database.open(f"postgresql://os1:s3cret@127.0.0.1:{port}/os1")
    assert f"Can't connect to the database at postgresql://os1:***@127.0.0.1:{port}/os1" \
        in str(caught.value)
    assert "s3cret" not in str(caught.value), "the password is never shown"
    assert "PostgreSQL is running" in caught.value.hint


def test_a_database_setting_that_is_not_a_postgresql_url_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"OS1_HOME": "/tmp/x", "OS1_DATABASE": "mysql://db/os1"})
    assert "postgresql://user:password@host:port/dbname" in str(caught.value)
    assert load_settings({"OS1_HOME": "/tmp/x"}).storage == Path("/tmp/x/os1.db")
    url = "postgresql://os1@db.example:5432/os1"
    assert load_settings({"OS1_HOME": "/tmp/x", "OS1_DATABASE": url}).storage == url


def test_sqlite_spellings_are_rewritten_for_postgresql_and_nothing_else() -> None:
    assert translate("SELECT * FROM m WHERE +user_id = ? AND instr(a, b) > 0"
                     " AND u LIKE 'account:%'") == (
        "SELECT * FROM m WHERE user_id = %s AND strpos(a, b) > 0 AND u LIKE 'account:%%'")
    assert translate("SELECT a + b, x+y FROM t") == "SELECT a + b, x+y FROM t"


def test_writers_on_postgresql_wait_for_each_other_and_nothing_is_lost(
        postgres_server: PostgresServer) -> None:
    """Eight threads appending at once through one shared handle: ids come out in commit
    order, with no gaps and nothing lost (what the memory worker's ``id > last`` needs)."""
    db = Database.open(postgres_server.new_database())
    log = ConversationLog(db, "local")
    session = log.start_session("test")

    def write(n: int) -> None:
        for i in range(25):
            log.append(session, "user", f"writer {n} line {i}")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ids = [m.id for m in log.all()]
    assert len(ids) == 200 and ids == list(range(ids[0], ids[0] + 200))
    db.close()


def test_a_nul_in_a_message_is_stored_on_either_backend(db: Database) -> None:
    log = ConversationLog(db, "local")
    said = log.append(log.start_session("test"), "user", "before\x00after")
    stored = log.all()[0].content
    assert stored in ("before\x00after", "before\ufffdafter") and stored.startswith("before")
    assert log.since(said.id, 10)[0].content == stored
