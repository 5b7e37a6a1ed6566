"""A full disk while she writes: the write fails with a clear message (the CLI says what
to do, the server answers 507), nothing stored before is lost or damaged, and she works
again once there is room.

The disk is filled honestly, through SQLite's own limit: with ``PRAGMA max_page_count``
at the file's current size, any write that needs one more page fails inside SQLite with
the error a full disk gives ("database or disk is full", SQLITE_FULL). A write that still
fits in the pages the file has succeeds, as it would on a real full disk; so the writes
here that must fail are big ones."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from os1.config import Settings
from os1.errors import DiskFull
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from os1.storage.sqlite import SQLiteDatabase
from tests.unit.test_cli import flat
from tests.unit.test_server import auth, serve, sign_up

BIG = "A long letter I want you to keep. " * 3000  # ~100 KB: needs pages the file lacks
LONGEST = "A letter as long as a server takes. " * 540  # 19,440 characters, 5 pages
UNLIMITED = 1073741823  # SQLite's default max_page_count


def limit_to_current_size(db: SQLiteDatabase) -> None:
    pages = int(db.execute("PRAGMA page_count").fetchone()[0])
    db.execute(f"PRAGMA max_page_count = {pages}")


class FullDisk:
    """Every SQLite database this process opens (through os1) can't grow while full."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.full = False
        self.opened: list[SQLiteDatabase] = []
        connect = SQLiteDatabase.connect.__func__  # type: ignore[attr-defined]

        def tracked(cls: type[SQLiteDatabase], path: Path, migrate: bool = True
                    ) -> SQLiteDatabase:
            db: SQLiteDatabase = connect(cls, path, migrate)
            self.opened.append(db)
            if self.full:
                limit_to_current_size(db)
            return db

        monkeypatch.setattr(SQLiteDatabase, "connect", classmethod(tracked))

    def fill(self) -> None:
        self.full = True
        self._each(limit_to_current_size)

    def free(self) -> None:
        self.full = False
        self._each(lambda db: db.execute(f"PRAGMA max_page_count = {UNLIMITED}"))

    def _each(self, action: Callable[[SQLiteDatabase], object]) -> None:
        for db in self.opened:
            with contextlib.suppress(sqlite3.ProgrammingError):  # closed since
                action(db)


@pytest.fixture
def disk(monkeypatch: pytest.MonkeyPatch) -> FullDisk:
    return FullDisk(monkeypatch)


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


def stored(db: Database, user: str) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in ConversationLog(db, user).all()]


# -- the storage layer -------------------------------------------------------------------


def test_a_write_on_a_full_disk_is_refused_cleanly_and_works_once_there_is_room(
        disk: FullDisk, settings: Settings) -> None:
    db = Database.open(settings.storage)
    assert isinstance(db, SQLiteDatabase)
    log = ConversationLog(db, settings.user)
    session = log.start_session("test")
    for n in range(20):
        log.append(session, "user", f"Message number {n}, kept before the disk filled.")
    before = stored(db, settings.user)
    disk.fill()
    with pytest.raises(DiskFull) as caught:
        log.append(session, "user", BIG)
    assert str(caught.value).startswith("The disk is full: os1 can't write to ")
    assert str(db.path) in str(caught.value)
    assert "Free some space on that disk" in caught.value.hint
    assert not db.connection.in_transaction, "the failed write left no transaction open"
    assert stored(db, settings.user) == before
    assert integrity(db.path) == "ok"
    disk.free()
    log.append(session, "user", BIG)
    assert stored(db, settings.user) == [*before, ("user", BIG)]
    assert integrity(db.path) == "ok"
    db.close()


def test_a_commit_that_fails_leaves_no_transaction_open(settings: Settings) -> None:
    """A write can fail at COMMIT (here a deferred foreign key; a full disk can too):
    the connection must be usable at once, not stuck inside the failed transaction."""
    db = Database.open(settings.storage)
    assert isinstance(db, SQLiteDatabase)
    with pytest.raises(sqlite3.IntegrityError), db.transaction() as tx:
        tx.execute("PRAGMA defer_foreign_keys = ON")
        tx.execute("INSERT INTO messages(user_id, session_id, role, content, status,"
                   " created_at) VALUES ('local', 999, 'user', 'orphan', 'complete', 0)")
    assert not db.connection.in_transaction
    log = ConversationLog(db, settings.user)
    log.append(log.start_session("test"), "user", "Still writing.")
    assert stored(db, settings.user) == [("user", "Still writing.")]
    db.close()


# -- a turn --------------------------------------------------------------------------------


class FillingModel(FakeModel):
    """Fills the disk while she writes her (long) reply."""

    def __init__(self, disk: FullDisk) -> None:
        super().__init__()
        self.disk = disk

    def stream_chat(self, messages: Any, options: Any) -> Iterator[str]:
        self.disk.fill()
        yield BIG


def test_a_disk_that_fills_during_her_reply_fails_the_turn_and_she_goes_on_later(
        disk: FullDisk, settings: Settings, setup_record: SetupRecord) -> None:
    db = Database.open(settings.storage)
    model = FillingModel(disk)
    companion = Companion(model, db, settings)
    turn = companion.reply("Tell me a long story.")
    with pytest.raises(DiskFull):
        "".join(turn)
    assert turn.status == "complete"  # shown whole; only keeping it failed
    assert stored(db, settings.user) == [("user", "Tell me a long story.")]
    assert integrity(Path(settings.storage)) == "ok"
    with pytest.raises(DiskFull):
        companion.reply(BIG)  # the message itself can't be kept: no turn starts
    disk.free()
    companion.model = FakeModel()
    assert "".join(companion.reply("Are you there?"))
    assert [role for role, _ in stored(db, settings.user)] == ["user", "user", "assistant"]
    db.close()


# -- the CLI, as a real process whose every database connection finds the disk full ------

ON_A_FULL_DISK = """
import sys
from os1.cli import main
from os1.storage.sqlite import SQLiteDatabase

connect = SQLiteDatabase.connect.__func__

def full(cls, path, migrate=True):
    db = connect(cls, path, migrate)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    return db

SQLiteDatabase.connect = classmethod(full)
sys.argv = ["os1", *sys.argv[1:]]
main()
"""


def os1(*args: str, full: bool, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", ON_A_FULL_DISK] if full else [sys.executable, "-m", "os1"]
    return subprocess.run([*command, *args, "--model", "fake"], input=stdin,
                          capture_output=True, text=True, timeout=60, env=dict(os.environ),
                          check=False)


def test_the_cli_says_the_disk_is_full_and_what_to_do_and_works_once_freed(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    log = ConversationLog(db, settings.user)
    session = log.start_session("test")
    log.append(session, "user", "Something said before the disk filled.")
    before = stored(db, settings.user)
    said = os1("say", BIG, full=True)
    assert said.returncode == 1
    assert "The disk is full: os1 can't write to" in flat(said.stderr)
    assert "Free some space on that disk" in flat(said.stderr)
    assert "Traceback" not in said.stderr
    chat = os1("chat", full=True, stdin=f"{BIG}\n{BIG}\n")
    assert chat.returncode == 0, chat.stderr  # each turn told, and the chat went on
    assert flat(chat.stderr).count("The disk is full") == 2, chat.stderr
    assert "Traceback" not in chat.stderr
    assert stored(db, settings.user) == before
    assert integrity(Path(settings.storage)) == "ok"
    again = os1("say", "Is everything still there?", full=False)
    assert again.returncode == 0, again.stderr
    assert stored(db, settings.user)[:1] == before
    assert stored(db, settings.user)[-2][1] == "Is everything still there?"


# -- the server ----------------------------------------------------------------------------


def test_the_server_answers_507_on_a_full_disk_and_talks_again_once_freed(
        disk: FullDisk, settings: Settings) -> None:
    model = FakeModel()
    client = serve(settings, model)
    try:
        token = sign_up(client, "theo")
        disk.fill()
        body = {"model": "os1", "messages": [{"role": "user", "content": LONGEST}]}
        answer = client.post("/v1/chat/completions", headers=auth(token), json=body)
        assert answer.status_code == 507, answer.text
        error = answer.json()["error"]
        assert error["type"] == "insufficient_storage"
        assert error["message"] == "The server's disk is full, so nothing of this could be kept."
        assert str(settings.home) not in answer.text, "no server path reaches a client"
        with client.websocket_connect("/api/conversation") as ws:
            ws.send_json({"type": "auth", "token": token})
            assert ws.receive_json()["type"] == "ready"
            ws.send_json({"type": "message", "text": LONGEST})
            frame = ws.receive_json()
            assert (frame["type"], frame["code"]) == ("error", "disk_full"), frame
        assert client.get("/api/history", headers=auth(token)).json() == []
        disk.free()
        model.enqueue("Here I am.")
        body["messages"] = [{"role": "user", "content": "Are you there?"}]
        answer = client.post("/v1/chat/completions", headers=auth(token), json=body)
        assert answer.status_code == 200, answer.text
        history = client.get("/api/history", headers=auth(token)).json()
        assert [m["content"] for m in history] == ["Are you there?", "Here I am."]
    finally:
        client.__exit__(None, None, None)
    assert integrity(Path(settings.storage)) == "ok"
