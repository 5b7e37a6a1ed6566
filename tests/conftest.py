"""Shared fixtures. Every test runs with ``OS1_HOME`` pointing into its own tmp dir, so no
test reads or writes the real user's data dir.

The storage suite runs on both backends: a module marked ``both_backends`` runs each of
its tests that uses ``settings`` (or anything built on it) once on SQLite and once on a
real PostgreSQL server, which the first such test starts; ``sqlite_only`` keeps a test
about SQLite's own files to SQLite."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from os1.config import Settings, load_settings
from os1.llm.base import Message
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore
from tests.postgres_server import PostgresServer

THEO_ANSWERS = {
    "name": "Theo",
    "social": "Social, but quieter since the divorce.",
    "mother": "Complicated. She never really listens.",
    "hope": "Someone curious to talk to at night.",
}
HER_NAME = "Juniper"
HER_REASON = "I love how juniper smells after rain, and I feel a little wild and green like it."


@pytest.fixture(autouse=True)
def os1_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data dir for this test (not created: os1 creates it on first use)."""
    home = tmp_path / "os1-home"
    monkeypatch.setenv("OS1_HOME", str(home))
    return home


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if ("backend" in metafunc.fixturenames
            and metafunc.definition.get_closest_marker("both_backends")
            and not metafunc.definition.get_closest_marker("sqlite_only")):
        metafunc.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def settings(os1_home: Path, backend: str, request: pytest.FixtureRequest,
             monkeypatch: pytest.MonkeyPatch) -> Settings:
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        monkeypatch.setenv("OS1_DATABASE", server.new_database())
    loaded = load_settings()
    assert loaded.home == os1_home
    return loaded


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database.open(settings.storage)
    yield database
    database.close()


def make_setup_record(**changes: object) -> SetupRecord:
    values: dict[str, object] = {
        "user_name": "Theo",
        "answers": dict(THEO_ANSWERS),
        "voice": "female",
        "companion_name": HER_NAME,
        "name_reason": HER_REASON,
    }
    values.update(changes)
    return SetupRecord(**values)  # type: ignore[arg-type]


@pytest.fixture
def setup_record(db: Database, settings: Settings) -> SetupRecord:
    """She is set up: Theo answered the questions and she chose the name Juniper."""
    record = make_setup_record()
    SetupStore(db, settings.user).save(record)
    return record


@pytest.fixture
def fake_model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def companion(fake_model: FakeModel, db: Database, settings: Settings,
              setup_record: SetupRecord) -> Companion:
    """A set-up companion on the fake model, without steering (see test_companion for it)."""
    return Companion(fake_model, db, settings)


class PrefillingModel(FakeModel):
    """Records each prompt it is asked to evaluate ahead of a reply."""

    def __init__(self) -> None:
        super().__init__()
        self.prefilled: list[list[Message]] = []

    def prefill(self, messages: Sequence[Message]) -> None:
        self.prefilled.append(list(messages))
