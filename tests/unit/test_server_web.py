"""The browser front end's side of ``os1 serve``, on the scripted model: the page and its
files under a strict CSP with nothing from elsewhere, the first-run setup in which she
chooses her name, her mood over time and her self's history, and each memory's sources,
correction and search; and all of it one person's only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.mind.mood import MoodKeeper
from os1.server.page import build_page
from os1.server.web import WEB
from os1.storage.db import Database
from tests.unit.test_server import GatedModel, auth, reply_of, serve, sign_up, talk

NAMING = json.dumps({"name": "Marlowe", "why": "I like how it sounds; I chose it myself."})
ANSWERS = {"name": "Theo", "social": "mostly social", "mother": "warm",
           "hope": "a friend who listens"}


@pytest.fixture
def model() -> GatedModel:
    return GatedModel()


@pytest.fixture
def client(settings: Settings, model: GatedModel) -> Iterator[TestClient]:
    client = serve(settings, model)
    yield client
    client.__exit__(None, None, None)


def user_id(client: TestClient, token: str) -> str:
    return client.app.state.os1.accounts.account_for(token).user_id  # type: ignore[attr-defined,no-any-return]


# -- the page ----------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_under_a_strict_csp(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = build_page(WEB).csp
    assert page.headers["content-security-policy"] == csp
    assert "script-src 'self' 'sha256-" in csp and "unsafe" not in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    for src in re.findall(r'(?:src|href)="([^"]+)"', page.text):
        if src.startswith(("#", "data:")):
            continue
        asset = client.get(src)
        assert asset.status_code == 200, src
        if src.startswith("/skills/"):  # a link to a skill's own view, under its own CSP
            continue
        assert asset.headers["content-security-policy"] == csp
    for name in ("app.js", "voice.js", "voice-worklet.js", "js/api.js"):  # still importable
        script = client.get(f"/static/{name}")
        assert "javascript" in script.headers["content-type"], name
    assert client.get("/static/../server/web.py").status_code == 404
    # the API keeps its own headers too
    assert client.get("/api/status").headers["referrer-policy"] == "no-referrer"


def test_the_files_ask_nothing_of_other_hosts_and_hold_nothing_inline() -> None:
    files = [p for p in WEB.rglob("*") if p.suffix in (".html", ".js", ".css")]
    assert {p.name for p in files} >= {"index.html", "app.js", "app.css"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        text = text.replace('"http://www.w3.org/2000/svg"', "")  # a namespace, not a request
        assert re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text) == [], path
        assert "@import url(" not in text and "innerHTML" not in text, path
    html = (WEB / "index.html").read_text(encoding="utf-8")
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []  # no inline scripts
    assert "<style" not in html and " style=" not in html and " on" + "click=" not in html
    assert 'id="voice-toggle"' in html and 'aria-pressed="false"' in html
    assert 'aria-live="polite"' in html


def test_the_token_never_goes_into_a_url() -> None:
    for path in WEB.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            if "token" in line and ("?" in line and "=" in line and "`" in line):
                assert "token=" not in line, (path, line)
        assert "location.hash" not in text and "searchParams" not in text, path


# -- first-run setup ---------------------------------------------------------------------


def test_the_first_run_setup_lets_her_choose_her_name(client: TestClient,
                                                      model: GatedModel) -> None:
    token = sign_up(client, "theo")
    before = client.get("/api/setup", headers=auth(token)).json()
    assert before["done"] is False and before["companion_name"] == ""
    assert before["questions"][0]["key"] == "name"
    assert "female" in before["voices"]
    model.enqueue("not json at all", NAMING)  # her first pick is unusable: she tries again
    done = client.post("/api/setup", headers=auth(token),
                       json={"answers": ANSWERS, "voice": "male"})
    assert done.status_code == 200, done.text
    body = done.json()
    assert (body["done"], body["companion_name"], body["voice"], body["user_name"]) == \
        (True, "Marlowe", "male", "Theo")
    assert "chose it myself" in body["name_reason"]
    again = client.post("/api/setup", headers=auth(token),
                        json={"answers": ANSWERS, "voice": "male"})
    assert again.status_code == 400 and "already" in again.json()["error"]["message"]
    with client.websocket_connect("/api/conversation") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["companion"] == "Marlowe"
    # and in the conversation she is Marlowe: her name is in the system prompt
    talk(client, token, "Hello!")
    assert "Marlowe" in model.calls[-1].messages[0].content


def test_setup_says_what_is_missing(client: TestClient, model: GatedModel) -> None:
    token = sign_up(client, "theo")
    for body in ({"answers": {"social": "yes"}}, {"answers": {"name": "T", "x": "y"}},
                 {"answers": {"name": "Theo"}, "voice": "robot"}):
        answer = client.post("/api/setup", headers=auth(token), json=body)
        assert answer.status_code == 400, body
    assert client.get("/api/setup", headers=auth(token)).json()["done"] is False
    model.enqueue(*["I am not sure."] * 5)  # she can't settle on a name: nothing is saved
    unsure = client.post("/api/setup", headers=auth(token), json={"answers": ANSWERS})
    assert unsure.status_code == 400 and "settle" in unsure.json()["error"]["message"]
    assert client.get("/api/setup", headers=auth(token)).json()["done"] is False


def test_someone_who_talked_first_has_the_servers_setup(client: TestClient) -> None:
    token = sign_up(client, "amy")
    talk(client, token, "Hi")
    setup = client.get("/api/setup", headers=auth(token)).json()
    assert setup["done"] is True and setup["companion_name"] == "Juniper"


# -- mood and self over time -------------------------------------------------------------


def test_her_mood_history_follows_the_conversation(client: TestClient,
                                                  settings: Settings) -> None:
    token = sign_up(client, "theo")
    db = Database.open(settings.storage)
    try:  # what a turn with her memory on does (the scripted server here has none)
        keeper = MoodKeeper(db, user_id(client, token))
        for text in ("I love this, what a wonderful, happy, beautiful day!",
                     "Thank you so much, you are wonderful."):
            keeper.feel(text)
    finally:
        db.close()
    points = client.get("/api/mood/history", headers=auth(token)).json()
    assert len(points) >= 3 and points[-1]["cause"] == "now"
    assert points[0]["at"] <= points[1]["at"] <= points[-1]["at"]
    assert points[1]["valence"] > 0.1 and points[-1]["feeling"]
    now = client.get("/api/mood", headers=auth(token)).json()
    assert points[-1]["valence"] == pytest.approx(now["valence"], abs=0.01)
    amy = sign_up(client, "amy")
    assert len(client.get("/api/mood/history", headers=auth(amy)).json()) == 1


def test_her_self_history_starts_with_who_she_was(client: TestClient) -> None:
    token = sign_up(client, "theo")
    versions = client.get("/api/self/history", headers=auth(token)).json()
    assert versions[0]["version"] >= 1 and versions[0]["changes"] == []
    assert versions[-1]["traits"] == client.get("/api/self", headers=auth(token)).json()["traits"]


# -- memories ----------------------------------------------------------------------------


def remember(settings: Settings, owner: str, content: str, message: int | None = None) -> int:
    db = Database.open(settings.storage)
    try:
        store = MemoryStore(db, owner, HashEmbedder())
        sources = () if message is None else (message,)
        return store.add("fact", content, sources=sources).id
    finally:
        db.close()


def search(client: TestClient, token: str, query: str) -> list[dict[str, Any]]:
    found = client.post("/api/memories/search", headers=auth(token),
                        json={"query": query, "limit": 20})
    assert found.status_code == 200, found.text
    return list(found.json())


def test_a_memory_shows_its_source_is_corrected_and_forgotten(
        client: TestClient, settings: Settings) -> None:
    token = sign_up(client, "theo")
    reply_of(talk(client, token, "My sister Ana lives in Lisbon.")[0])
    said = client.get("/api/history", headers=auth(token)).json()[0]
    memory = remember(settings, user_id(client, token), "Theo's sister lives in Lisbon.",
                      said["id"])
    sources = client.get(f"/api/memories/{memory}/sources", headers=auth(token)).json()
    assert [m["content"] for m in sources["messages"]] == ["My sister Ana lives in Lisbon."]
    assert sources["memory"]["id"] == memory and len(sources["versions"]) == 1
    edited = client.patch(f"/api/memories/{memory}", headers=auth(token),
                          json={"content": "Theo's sister lives in Porto."})
    assert edited.status_code == 200, edited.text
    new = edited.json()
    assert new["id"] != memory and new["content"] == "Theo's sister lives in Porto."
    assert [m["id"] for m in search(client, token, "sister Porto")] == [new["id"]]
    assert "Lisbon" not in json.dumps(search(client, token, "sister Lisbon"))
    history = client.get(f"/api/memories/{new['id']}/sources", headers=auth(token)).json()
    assert [v["content"] for v in history["versions"]] == [
        "Theo's sister lives in Lisbon.", "Theo's sister lives in Porto."]
    stale = client.patch(f"/api/memories/{memory}", headers=auth(token),
                         json={"content": "x"})
    assert stale.status_code == 400  # only the current version can be corrected
    gone = client.delete(f"/api/memories/{new['id']}", headers=auth(token))
    assert gone.json()["forgotten"] >= 1
    assert search(client, token, "sister Porto") == []
    assert client.get(f"/api/memories/{new['id']}/sources",
                      headers=auth(token)).status_code == 404


def test_an_empty_search_lists_the_newest(client: TestClient, settings: Settings) -> None:
    token = sign_up(client, "theo")
    for text in ("Theo plays the cello.", "Theo has a cat named Miso."):
        remember(settings, user_id(client, token), text)
    assert [m["content"] for m in search(client, token, " ")] == [
        "Theo has a cat named Miso.", "Theo plays the cello."]


# -- one person's only -------------------------------------------------------------------


def test_no_one_reaches_anothers_memories_setup_or_mood(
        client: TestClient, settings: Settings, model: GatedModel) -> None:
    amy, theo = sign_up(client, "amy"), sign_up(client, "theo")
    talk(client, amy, "My diary password is blue-heron-77, I am so happy.")
    said = client.get("/api/history", headers=auth(amy)).json()[0]
    secret = remember(settings, user_id(client, amy), "Amy's diary password is blue-heron-77.",
                      said["id"])
    for method, path, body in (
            ("GET", f"/api/memories/{secret}/sources", None),
            ("PATCH", f"/api/memories/{secret}", {"content": "Amy has no password."}),
            ("DELETE", f"/api/memories/{secret}", None)):
        answer = client.request(method, path, headers=auth(theo), json=body)
        assert answer.status_code == 404, (method, path)
        assert "blue-heron" not in answer.text
        assert client.request(method, path, json=body).status_code == 401
    assert search(client, theo, "diary password blue-heron-77") == []
    assert search(client, amy, "diary password blue-heron-77")[0]["id"] == secret
    assert len(client.get("/api/mood/history", headers=auth(theo)).json()) == 1
    model.enqueue(NAMING)
    client.post("/api/setup", headers=auth(theo), json={"answers": ANSWERS})
    assert client.get("/api/setup", headers=auth(amy)).json()["companion_name"] == "Juniper"
    for path in ("/api/setup", "/api/mood/history", "/api/self/history"):
        assert client.get(path).status_code == 401
    assert client.post("/api/memories/search", json={"query": "diary"}).status_code == 401
