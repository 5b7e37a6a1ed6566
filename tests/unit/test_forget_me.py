"""Forget-me (os1/mind/forget_me.py, os1/storage/person_rows.py): a person planted in
every table, their memory index, saved model states and passwords, then forgotten. No
row, vector, full-text entry or file of theirs is left (on SQLite, not a byte in the
database file, its WAL or the data dir), and everyone else's data is as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1.memory.indexed_vectors import index_path
from os1.mind.forget_me import forget_person
from os1.storage.db import Database
from os1.storage.secrets import Secrets
from tests.person_data import Planted, has_user_id, new_account, plant, rows_of, schema_tables
from tests.storage_checks import fts_hits

pytestmark = pytest.mark.both_backends


@pytest.fixture(autouse=True)
def no_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords in their files under the data dir, where the test can see them."""
    monkeypatch.setattr("os1.storage.secrets._usable_keyring", lambda: None)


def plant_everything(db: Database, home: Path, user_id: str) -> Planted:
    planted = plant(db, user_id, home)
    plant(db, "amy" if user_id != "amy" else "bo", home)  # someone in between
    plant(db, user_id, home, planted)
    for account, name in db.execute("SELECT user_id, name FROM mail_accounts"
                                    " WHERE user_id = ?", (user_id,)).fetchall():
        Secrets(home).set(f"{account}/{name}", f"password {planted.word()}")
    for account, name in db.execute("SELECT user_id, name FROM calendar_sources"
                                    " WHERE user_id = ?", (user_id,)).fetchall():
        Secrets(home).set(f"{account}/calendar-{name}", f"password {planted.word()}")
    return planted


def person_tables(db: Database) -> list[str]:
    return [t for t in schema_tables(db) if has_user_id(db, t)]


def everyone_else(db: Database, home: Path, user_id: str) -> dict[str, object]:
    users = {str(r[0]) for t in person_tables(db)
             for r in db.execute(f"SELECT DISTINCT user_id FROM {t}")} - {user_id}
    rows = {(u, t): rows_of(db, t, u) for u in users for t in person_tables(db)}
    theirs = {index_path(db, user_id), home / "state" / f"{user_id}.kv",
              home / "state" / "server" / f"{user_id.replace(':', '-')}.kv"}
    files = {p: p.read_bytes() for p in home.rglob("*") if p.is_file()
             and p.suffix in (".kv", ".index") and p not in theirs}
    return {"rows": rows, "files": files}


def test_forget_me_leaves_no_row_of_theirs_and_all_of_everyone_elses(
        db: Database, os1_home: Path) -> None:
    theo = plant_everything(db, os1_home, "local")
    others = everyone_else(db, os1_home, "local")
    index = index_path(db, "local")

    forgotten = forget_person(db, os1_home, "local")

    for table in person_tables(db):
        left = db.execute(f"SELECT COUNT(*) FROM {table} WHERE user_id = 'local'").fetchone()
        assert left[0] == 0, table
    assert forgotten.total_rows == sum(forgotten.rows.values()) > 40
    assert {"messages", "memories", "memory_events", "mail_messages", "calendar_events",
            "actions", "memory_claims", "self_versions"} <= set(forgotten.rows)
    for word in theo.canaries:
        assert not fts_hits(db, word), word
    assert forgotten.passwords == 4  # two mail accounts, two calendars
    assert list((os1_home / "secrets").iterdir()) == []
    assert not (os1_home / "state" / "local.kv").exists()
    assert not (os1_home / "state" / "server" / "local.kv").exists()
    if index is not None:  # SQLite keeps a vector index file per person
        assert not index.exists() and index in forgotten.files
    assert everyone_else(db, os1_home, "local") == others


def test_forgetting_an_account_takes_its_logins_too(db: Database, os1_home: Path) -> None:
    theo = new_account(db, "theo")
    plant_everything(db, os1_home, theo)
    amy = new_account(db, "amy")
    plant(db, amy)
    others = everyone_else(db, os1_home, theo)

    forgotten = forget_person(db, os1_home, theo)

    account_id = int(theo.split(":")[1])
    assert forgotten.rows["accounts"] == 1 and forgotten.rows["account_tokens"] == 1
    for sql in ("SELECT 1 FROM accounts WHERE id = ?",
                "SELECT 1 FROM account_tokens WHERE account_id = ?",
                "SELECT 1 FROM invitations WHERE used_by = ?"):
        assert db.execute(sql, (account_id,)).fetchone() is None, sql
    assert db.execute("SELECT 1 FROM login_failures WHERE username = 'theo'").fetchone() is None
    assert db.execute("SELECT 1 FROM login_failures WHERE username = 'amy'").fetchone()
    assert db.execute("SELECT 1 FROM accounts WHERE username = 'amy'").fetchone()
    assert not (os1_home / "state" / "server" / f"account-{account_id}.kv").exists()
    assert everyone_else(db, os1_home, theo) == others


def test_forget_me_deletes_from_a_table_no_one_mapped(db: Database, os1_home: Path) -> None:
    with db.transaction() as tx:
        tx.execute("CREATE TABLE postcards (user_id TEXT NOT NULL, body TEXT NOT NULL)")
        tx.execute("INSERT INTO postcards VALUES ('local', 'Dear you'), ('amy', 'Dear Amy')")
    forgotten = forget_person(db, os1_home, "local")
    assert forgotten.rows == {"postcards": 1}
    assert [tuple(r) for r in db.execute("SELECT * FROM postcards")] == [("amy", "Dear Amy")]


@pytest.mark.sqlite_only
def test_forget_me_leaves_no_byte_of_theirs_on_disk(db: Database, os1_home: Path) -> None:
    theo = plant_everything(db, os1_home, "local")
    amy_words = [r[0] for r in db.execute("SELECT content FROM messages WHERE user_id = 'amy'")]
    index = index_path(db, "local")
    assert index is not None
    for planted in (index, os1_home / "state" / "local.kv",
                    os1_home / "state" / "server" / "local.kv"):  # each holds a marker
        assert any(w.encode() in planted.read_bytes() for w in theo.canaries), planted
    forget_person(db, os1_home, "local")

    files = [p for p in os1_home.rglob("*") if p.is_file()]  # the database's WAL too
    assert os1_home / "os1.db" in files
    on_disk = b"".join(p.read_bytes() for p in files)
    for word in theo.canaries:
        assert word[-10:].encode() not in on_disk, word
    for embedding in theo.embeddings:
        assert embedding not in on_disk
    for said in amy_words:  # the search does see what is there
        assert said.encode() in on_disk
