"""A skill's own part of ``os1 serve`` (``server/skill_routes.py``): its ``APIRouter``
under ``/api/skills/<name>`` behind the same token as every route, serving the token's
person only, and its web view's folder under ``/skills/<name>/``. The skill here is a
tiny one registered through an entry point, as an installed package's would be."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from importlib.metadata import EntryPoint, entry_points
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.skills import registry
from os1.skills.contract import BaseSkill
from os1.skills.route_person import RoutePerson
from os1.storage.conversations import ConversationLog
from tests.unit.test_server import GatedModel, auth, serve, sign_up, talk

NOTES = APIRouter()


@NOTES.get("/whoami")
def whoami(person: RoutePerson) -> dict[str, Any]:
    """Whose request this is, as the skill is told, and what of theirs it can read."""
    said = ConversationLog(person.db, person.settings.user).all()
    return {"user": person.settings.user, "name": person.name,
            "said": [m.content for m in said if m.role == "user"]}


@NOTES.get("/think")
def think(person: RoutePerson) -> dict[str, Any]:
    person.model()  # the model is for conversation turns: this raises
    return {}


class NotesSkill(BaseSkill):
    name = "notes"
    order = 50
    folder: Path | None = None

    def router(self) -> APIRouter:
        return NOTES

    def view(self) -> Traversable | None:
        return self.folder


class BrokenSkill(BaseSkill):
    name = "broken"

    def router(self) -> Any:
        return "not a router"


NOTES_SKILL = NotesSkill()
BROKEN_SKILL = BrokenSkill()


@pytest.fixture
def client(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[TestClient]:
    """The server with the two built-in skills and these two, found by entry points."""
    view = tmp_path / "notes-view"
    view.mkdir()
    (view / "index.html").write_text("<h1>Notes</h1><script src=\"notes.js\"></script>")
    (view / "notes.js").write_text("console.log('notes');")
    monkeypatch.setattr(NOTES_SKILL, "folder", view)
    points = [*entry_points(group=registry.GROUP),
              EntryPoint("notes", f"{__name__}:NOTES_SKILL", registry.GROUP),
              EntryPoint("broken", f"{__name__}:BROKEN_SKILL", registry.GROUP)]
    monkeypatch.setattr(registry, "installed_skills", lambda: registry.load_skills(points))
    client = serve(settings, GatedModel())
    yield client
    client.__exit__(None, None, None)


def test_a_skills_route_serves_the_person_of_the_token_and_no_one_else(
        client: TestClient) -> None:
    theo, amy = sign_up(client, "theo", display_name="Theo"), sign_up(client, "amy")
    talk(client, theo, "I keep bees")
    talk(client, amy, "I sail on Sundays")
    mine = client.get("/api/skills/notes/whoami", headers=auth(theo))
    assert mine.status_code == 200, mine.text
    hers = client.get("/api/skills/notes/whoami", headers=auth(amy)).json()
    assert mine.json()["said"] == ["I keep bees"] and hers["said"] == ["I sail on Sundays"]
    assert mine.json()["user"] != hers["user"] and mine.json()["name"] == "Theo"


def test_a_skills_route_needs_a_token_like_every_route(client: TestClient) -> None:
    for headers in ({}, auth("not-a-token")):
        refused = client.get("/api/skills/notes/whoami", headers=headers)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "unauthorised"
        assert refused.headers["www-authenticate"] == "Bearer"


def test_a_skills_route_cannot_take_the_model_from_the_conversation(
        client: TestClient) -> None:
    refused = client.get("/api/skills/notes/think", headers=auth(sign_up(client, "theo")))
    assert refused.status_code == 500
    assert "can't use the model" in refused.json()["error"]["message"]


def test_a_skills_routes_are_in_the_spec_under_its_name(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/skills/notes/whoami" in paths
    assert not [p for p in paths if p.startswith(("/api/skills/mail", "/api/skills/broken"))]


def test_a_skills_view_is_served_under_its_name_with_a_strict_csp(
        client: TestClient) -> None:
    page = client.get("/skills/notes/")
    assert page.status_code == 200 and "<h1>Notes</h1>" in page.text
    script = client.get("/skills/notes/notes.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe" not in csp and "sha256" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert client.get("/skills/notes/../../server/app.py").status_code == 404
    assert client.get("/skills/mail/").status_code == 404  # mail has no view


def test_a_skill_whose_router_is_not_one_is_left_out_with_a_warning(
        settings: Settings, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    points = [EntryPoint("broken", f"{__name__}:BROKEN_SKILL", registry.GROUP)]
    monkeypatch.setattr(registry, "installed_skills", lambda: registry.load_skills(points))
    with caplog.at_level(logging.WARNING, logger="os1.server.skill_routes"):
        client = serve(settings, GatedModel())
    try:
        assert "'broken'" in caplog.text and "not a FastAPI APIRouter" in caplog.text
        assert client.get("/api/status").json()["state"] == "ready"
    finally:
        client.__exit__(None, None, None)
