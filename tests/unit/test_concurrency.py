"""Two os1 processes writing to one data dir at the same time lose nothing."""

from __future__ import annotations

import itertools
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from os1.config import Settings
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from tests.conftest import make_setup_record

TURNS = 40

CHILD = r"""
import sys, time
from pathlib import Path
from os1.config import load_settings
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.storage.db import Database

tag, go, turns = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
settings = load_settings()
db = Database.open(settings.db_path)
companion = Companion(FakeModel(), db, settings)
go.with_name(go.name + "." + tag).touch()
deadline = time.monotonic() + 30
while not go.exists():
    if time.monotonic() > deadline:
        sys.exit("no start signal")
    time.sleep(0.001)
for n in range(turns):
    "".join(companion.reply(f"{tag} message {n}"))
    time.sleep(0.002)  # a person types; this also lets the two writers interleave
db.close()
"""


def check_integrity(path: Path) -> None:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_two_processes_replying_at_once_lose_nothing(db: Database, settings: Settings,
                                                     tmp_path: Path) -> None:
    SetupStore(db, settings.user).save(make_setup_record())
    go = tmp_path / "go"
    children = [
        subprocess.Popen([sys.executable, "-c", CHILD, tag, str(go), str(TURNS)],
                         env=dict(os.environ), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for tag in ("A", "B")
    ]
    try:
        deadline = time.monotonic() + 30
        while not all(go.with_name(f"go.{tag}").exists() for tag in ("A", "B")):
            assert all(c.poll() is None for c in children), "a child died before starting"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        go.touch()
        outputs = [c.communicate(timeout=60) for c in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err.decode()

    rows = db.execute(
        "SELECT role, content, status FROM messages ORDER BY id").fetchall()
    assert len(rows) == 4 * TURNS
    for tag in ("A", "B"):
        said = [r["content"] for r in rows if r["role"] == "user"
                and r["content"].startswith(f"{tag} ")]
        heard = [r["content"] for r in rows if r["role"] == "assistant"
                 and r["content"].startswith(f"You said: {tag} ")]
        assert said == [f"{tag} message {n}" for n in range(TURNS)]
        assert heard == [f"You said: {tag} message {n}" for n in range(TURNS)]
    assert {r["status"] for r in rows} == {"complete"}
    tags = [r["content"].removeprefix("You said: ")[0] for r in rows]
    switches = sum(a != b for a, b in itertools.pairwise(tags))
    assert switches >= 2, "the two processes really wrote at the same time"
    assert db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0] == 2
    check_integrity(settings.db_path)


def test_two_os1_chats_for_two_users_at_once(db: Database, settings: Settings) -> None:
    for user in ("alice", "bob"):
        SetupStore(db, user).save(make_setup_record(user_name=user.title()))
    procs = {}
    for user in ("alice", "bob"):
        env = dict(os.environ, OS1_USER=user)
        procs[user] = subprocess.Popen(
            [sys.executable, "-m", "os1", "chat", "--model", "fake"], env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines = {user: "".join(f"{user} line {n}\n" for n in range(TURNS)).encode()
             for user in procs}
    try:
        results = {user: proc.communicate(lines[user], timeout=60)
                   for user, proc in procs.items()}
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()

    for user, (out, err) in results.items():
        assert procs[user].returncode == 0, err.decode()
        assert out.decode().splitlines() == [
            f"You said: {user} line {n}" for n in range(TURNS)]
        rows = db.execute(
            "SELECT role, content FROM messages WHERE user_id = ? ORDER BY id",
            (user,)).fetchall()
        assert [tuple(r) for r in rows] == [
            pair for n in range(TURNS)
            for pair in (("user", f"{user} line {n}"),
                         ("assistant", f"You said: {user} line {n}"))]
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 4 * TURNS
    check_integrity(settings.db_path)

    history = subprocess.run([sys.executable, "-m", "os1", "history", "--limit", "1000"],
                             env=dict(os.environ, OS1_USER="bob"), capture_output=True,
                             text=True, timeout=60, check=False)
    assert history.returncode == 0
    assert "alice" not in history.stdout
    assert history.stdout.count("bob line") == 2 * TURNS


def test_a_half_read_select_does_not_lock_out_the_next_write(db: Database,
                                                              settings: Settings) -> None:
    """The reminder bell and the conversation share one connection: a SELECT one of them
    had not finished reading used to pin an old snapshot, so the other's write failed at
    once with "database is locked" whenever another process had written meanwhile."""
    for n in range(3):
        SetupStore(db, f"user{n}").save(make_setup_record(user_name=f"User{n}"))
    rows = db.execute("SELECT user_id FROM setups ORDER BY user_id")
    assert rows.fetchone() is not None  # two rows still unread
    other = sqlite3.connect(settings.db_path, timeout=1)
    with other:
        other.execute("DELETE FROM setups WHERE user_id = 'user2'")
    other.close()
    SetupStore(db, "user3").save(make_setup_record(user_name="User3"))
    assert [r[0] for r in rows.fetchall()] == ["user1", "user2"]  # what was read, kept


def test_a_thread_reading_waits_for_another_threads_transaction(db: Database) -> None:
    """Without the lock a read from the second thread would run inside the first
    thread's open transaction and see its uncommitted row."""
    inside, seen = threading.Event(), []
    def write() -> None:
        with db.transaction() as tx:
            tx.execute("INSERT INTO sessions(user_id, client, started_at) VALUES ('a','t',0)")
            inside.set()
            time.sleep(0.3)
            tx.execute("DELETE FROM sessions WHERE user_id = 'a'")
    writer = threading.Thread(target=write)
    writer.start()
    inside.wait(5)
    seen.append(db.execute("SELECT COUNT(*) FROM sessions WHERE user_id = 'a'").fetchone()[0])
    writer.join(5)
    assert seen == [0]
