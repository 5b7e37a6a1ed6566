"""``GET /api/artefacts`` (os1/server/artefacts.py): what her skills made for the token's
person, and nobody else's; no token, no list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.storage.artefacts import ArtefactStore
from os1.storage.db import Database
from tests.unit.test_server import auth, serve, sign_up


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    client = serve(settings, FakeModel())
    yield client
    client.__exit__(None, None, None)


def user_id(db: Database, username: str) -> str:
    row = db.execute("SELECT id FROM accounts WHERE username = ?", (username,)).fetchone()
    return f"account:{row[0]}"


def test_each_person_sees_only_what_was_made_for_them(client: TestClient,
                                                      settings: Settings) -> None:
    theo, amy = sign_up(client, "theo"), sign_up(client, "amy")
    db = Database.open(settings.storage)
    try:
        store = ArtefactStore(db, user_id(db, "theo"), settings.home)
        letter = store.add("letters", "letter", "To Amy", "Dear Amy,", "letter.txt")
        store.add("drawing", "sketch", "A fox", b"fox", "fox.png")
        ArtefactStore(db, user_id(db, "amy"), settings.home).add(
            "letters", "letter", "Amy's diary", "secret", "diary.txt")
    finally:
        db.close()

    mine = client.get("/api/artefacts", headers=auth(theo))
    assert mine.status_code == 200
    assert [(t["skill"], t["title"]) for t in mine.json()] == [("drawing", "A fox"),
                                                               ("letters", "To Amy")]
    assert "path" not in mine.json()[0], "where files lie is the server's business"
    letters = client.get("/api/artefacts", params={"skill": "letters"}, headers=auth(theo))
    assert [t["id"] for t in letters.json()] == [letter.id]
    hers = client.get("/api/artefacts", headers=auth(amy)).json()
    assert [t["title"] for t in hers] == ["Amy's diary"]


def test_no_token_no_list_and_a_bad_skill_name_is_refused(client: TestClient) -> None:
    assert client.get("/api/artefacts").status_code == 401
    theo = sign_up(client, "theo")
    bad = client.get("/api/artefacts", params={"skill": "../x"}, headers=auth(theo))
    assert bad.status_code == 422
