"""DELETE /api/account (os1/server/leaving.py): with the password, a person and
everything of theirs are gone, their tokens with them, while everyone else goes on as
before; a reply of theirs still being written is waited for, not left to write after."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.llm.base import GenerateOptions, Message, Model
from os1.llm.fake import FakeModel
from os1.llm.llama import LlamaModel
from os1.memory.embeddings import HashEmbedder
from os1.server.app import create_app
from os1.server.memory import ServerMemory
from os1.server.minds import Minds
from os1.server.states import ModelStates
from os1.storage.db import Database
from tests.person_data import has_user_id, plant, schema_tables

pytestmark = pytest.mark.both_backends
PASSWORD = "correct horse battery"


class HeldModel(FakeModel):
    """Holds each reply until ``release`` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.release.set()

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) \
            -> Iterator[str]:
        self.release.wait(10)
        return super().stream_chat(messages, options)


@pytest.fixture
def model() -> HeldModel:
    return HeldModel()


@pytest.fixture
def client(settings: Settings, model: HeldModel) -> Iterator[TestClient]:
    def with_memory(s: Settings, m: Model) -> Minds:
        writer = ServerMemory(s.storage, HashEmbedder(), FakeModel, quiet_s=0.0)
        writer.start()
        return Minds(s, m, embedder=HashEmbedder(), memory=writer)

    with TestClient(create_app(settings, lambda: model, make_minds=with_memory)) as client:
        deadline = time.monotonic() + 10
        while client.get("/api/status").json()["state"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        yield client


def sign_up(client: TestClient, username: str) -> str:
    assert client.post("/api/accounts", json={"username": username,
                                              "password": PASSWORD}).status_code == 201
    login = client.post("/api/sessions", json={"username": username, "password": PASSWORD})
    return str(login.json()["token"])


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def talk(client: TestClient, token: str, text: str) -> list[dict[str, Any]]:
    with client.websocket_connect("/api/conversation") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "ready"
        ws.send_json({"type": "message", "text": text})
        frames = [ws.receive_json()]
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(ws.receive_json())
    return frames


def delete(client: TestClient, token: str, password: str) -> Any:
    return client.request("DELETE", "/api/account", headers=auth(token),
                          json={"password": password})


def rows_of(db: Database, user_id: str) -> dict[str, int]:
    counts = {t: int(db.execute(f"SELECT COUNT(*) FROM {t} WHERE user_id = ?",
                                (user_id,)).fetchone()[0])
              for t in schema_tables(db) if has_user_id(db, t)}
    return {t: n for t, n in counts.items() if n}


def wait_for_memory(client: TestClient) -> None:
    writer = client.app.state.os1.minds.memory  # type: ignore[attr-defined]
    deadline = time.monotonic() + 20
    while not writer.idle():
        assert time.monotonic() < deadline, writer.last_error
        time.sleep(0.02)


def test_deleting_an_account_takes_everything_of_theirs_and_nothing_else(
        client: TestClient, db: Database) -> None:
    theo, amy = sign_up(client, "theo"), sign_up(client, "amy")
    talk(client, theo, "My sister Ana teaches piano.")
    talk(client, amy, "I grow tomatoes on my balcony.")
    wait_for_memory(client)
    theo_id = "account:" + str(db.execute("SELECT id FROM accounts WHERE username = 'theo'")
                               .fetchone()[0])
    plant(db, theo_id)  # mail, calendar, actions, self...: every table of theirs
    amy_id = "account:" + str(db.execute("SELECT id FROM accounts WHERE username = 'amy'")
                              .fetchone()[0])
    amy_before = rows_of(db, amy_id)

    assert delete(client, theo, "not my password").status_code == 401
    assert client.request("DELETE", "/api/account", json={"password": PASSWORD}) \
        .status_code == 401
    assert rows_of(db, theo_id)["messages"] == 4  # still all there

    gone = delete(client, theo, PASSWORD)
    assert gone.status_code == 200, gone.text
    body = gone.json()
    assert body["rows"]["accounts"] == 1 and body["rows"]["messages"] == 4
    assert body["rows"]["memories"] > 0 and body["total_rows"] == sum(body["rows"].values())
    assert body["passwords"] == 0
    assert rows_of(db, theo_id) == {}
    assert db.execute("SELECT 1 FROM accounts WHERE username = 'theo'").fetchone() is None
    assert client.get("/api/me", headers=auth(theo)).status_code == 401
    assert client.post("/api/sessions", json={"username": "theo", "password": PASSWORD}) \
        .status_code == 401
    assert rows_of(db, amy_id) == amy_before
    assert talk(client, amy, "Still there?")[-1]["type"] == "done"

    again = sign_up(client, "theo")  # the name is free; the new theo starts from nothing
    assert client.get("/api/history", headers=auth(again)).json() == []
    assert client.get("/api/memories", headers=auth(again)).json() == []


def test_a_reply_being_written_is_waited_for(client: TestClient, model: HeldModel,
                                              db: Database) -> None:
    theo = sign_up(client, "theo")
    theo_id = "account:" + str(db.execute("SELECT id FROM accounts WHERE username = 'theo'")
                               .fetchone()[0])
    model.release.clear()
    replying = threading.Thread(target=talk, args=(client, theo, "Tell me a story."))
    replying.start()
    gate = client.app.state.os1.gate  # type: ignore[attr-defined]
    deadline = time.monotonic() + 10
    while gate.status().running != 1:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    answer: list[Any] = []
    leaving = threading.Thread(target=lambda: answer.append(delete(client, theo, PASSWORD)))
    leaving.start()
    leaving.join(0.5)
    assert leaving.is_alive(), "it waits for the reply under way"
    model.release.set()
    replying.join(10)
    leaving.join(10)
    assert answer[0].status_code == 200, answer[0].text
    assert answer[0].json()["rows"]["messages"] == 2  # the reply was stored, then deleted
    wait_for_memory(client)
    assert rows_of(db, theo_id) == {}


class StateKeepingWorker(LlamaModel):
    """Only what ModelStates asks of a llama.cpp worker: no weights, files with a word."""

    def __init__(self) -> None:  # no model to load
        self.saved: list[str] = []

    def save_state(self, path: Path) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"evaluated conversation")
        self.saved.append(path.name)
        return 1

    def load_state(self, path: Path) -> int:
        return 1 if path.exists() else 0


@pytest.mark.sqlite_only
def test_a_forgotten_persons_model_state_is_shredded_and_never_saved_again(
        tmp_path: Path) -> None:
    states = ModelStates(tmp_path / "state" / "server")
    worker = StateKeepingWorker()
    for user in ("account:1", "account:2", "account:1"):
        states.switch_to(worker, user)  # each switch saves the state the worker leaves
    assert worker.saved == ["account-1.kv", "account-2.kv"]
    states.forget("account:1")  # the worker holds account:1's conversation now
    states.switch_to(worker, "account:2")
    assert worker.saved == ["account-1.kv", "account-2.kv"], "not saved under anyone"
    assert sorted(p.name for p in (tmp_path / "state" / "server").iterdir()) == \
        ["account-2.kv"]


@pytest.mark.sqlite_only
def test_forgotten_memory_work_is_dropped(settings: Settings) -> None:
    writer = ServerMemory(settings.storage, HashEmbedder(), FakeModel)
    writer.wake("account:1")
    writer.wake("account:2")
    writer.forget("account:1")
    writer.forget("account:2")
    assert writer.idle()
    writer.wake("account:1")  # a new account may be given a forgotten one's number
    assert not writer.idle()
