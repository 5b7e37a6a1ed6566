"""What "forget that" leaves in the database's own files (SQLite): the raw bytes of
``os1.db`` and its ``-wal`` are read after a forget, looking for a canary word that was
said once. PostgreSQL does not zero freed space (docs/DEPLOY.md says what is left)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.memory.embeddings import HashEmbedder
from os1.memory.ingest import Names, remember_moments
from os1.memory.memories import MemoryStore
from os1.mind.companion import Companion
from os1.mind.recollection import Recollection
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from os1.storage.sqlite import SQLiteDatabase

CANARY = "Quarzelbium"
EMBEDDER = HashEmbedder()


def files_holding(db: Database, word: str) -> list[str]:
    """The database's files (the db, its -wal and -shm) whose bytes hold ``word`` in any
    case."""
    assert isinstance(db, SQLiteDatabase)
    files = [p for p in Path(db.path).parent.iterdir()
             if p.name.startswith(Path(db.path).name) and p.is_file()]
    return sorted(p.name for p in files if word.lower().encode() in p.read_bytes().lower())


def chatting(db: Database, settings: Settings) -> Companion:
    companion = Companion(FakeModel(), db, settings,
                          memory=Recollection(db, settings.user, EMBEDDER, time.time))
    for n in range(12):
        "".join(companion.reply(f"Filler message {n}, about the weather and nothing else."))
    return companion


@pytest.mark.parametrize("secret", [
    f"My secret word is {CANARY} and nobody knows it.",
    "My diary today: " + f"{CANARY} was here, " * 600,  # text spilling onto overflow pages
], ids=["sentence", "overflowing"])
def test_forget_that_leaves_no_trace_of_the_message_in_the_files(
        db: Database, settings: Settings, setup_record: SetupRecord, secret: str) -> None:
    companion = chatting(db, settings)
    "".join(companion.reply(secret))
    remember_moments(MemoryStore(db, settings.user, EMBEDDER),
                     ConversationLog(db, settings.user), Names("Theo", "Juniper"))
    assert files_holding(db, CANARY), "the canary must be on disk before the forget"
    "".join(companion.reply("forget that"))
    assert files_holding(db, CANARY) == []
    "".join(companion.reply("And now something else."))  # she goes on as before
    assert files_holding(db, CANARY) == []


def test_forget_that_about_something_leaves_no_trace_in_the_files(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    companion = chatting(db, settings)
    "".join(companion.reply(f"My sister {CANARY} teaches piano."))
    "".join(companion.reply("I had soup for lunch."))
    "".join(companion.reply(f"Forget that my sister {CANARY} teaches piano."))
    assert files_holding(db, CANARY) == []
    kept = [m.content for m in ConversationLog(db, settings.user).all()]
    assert "I had soup for lunch." in kept


def test_blanking_messages_alone_scrubs_the_files(db: Database, settings: Settings) -> None:
    """No memory was forgotten first (which used to switch secure_delete on)."""
    log = ConversationLog(db, settings.user)
    session = log.start_session("test")
    kept = log.append(session, "user", "Something ordinary to keep.")
    doomed = log.append(session, "user", f"The alarm code is {CANARY}.")
    assert files_holding(db, CANARY)
    assert log.forget([doomed.id]) == 1
    assert files_holding(db, CANARY) == []
    assert [m.content for m in log.all()] == [kept.content, ""]
