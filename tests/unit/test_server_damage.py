"""A damaged database stops os1 serve at start with what to do (issue 25: with a few
corrupt pages it said "loading" for ever and answered bare 500s)."""

from __future__ import annotations

import pytest

from os1.config import Settings
from os1.errors import StorageError
from os1.llm.fake import FakeModel
from os1.server.app import create_app
from os1.storage.db import Database


def test_corrupt_pages_stop_the_server_with_a_way_to_recover(settings: Settings) -> None:
    db = Database.open(settings.storage)
    db.execute("CREATE TABLE filler (x TEXT)")
    for n in range(400):
        db.execute("INSERT INTO filler VALUES (?)", (f"{n} " + "words of a long evening " * 20,))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    assert settings.db_path.stat().st_size > 200_000
    with settings.db_path.open("r+b") as f:  # a few pages in the middle of the file
        f.seek(120_000)
        f.write(b"\x13\x37" * 6_000)
    with pytest.raises(StorageError) as caught:
        create_app(settings, lambda: FakeModel())
    assert "damaged" in str(caught.value) and ".recover" in caught.value.hint


def test_a_sound_database_starts(settings: Settings) -> None:
    assert Database.open(settings.storage).damage() is None
    create_app(settings, lambda: FakeModel())
