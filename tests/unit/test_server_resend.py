"""A message sent again is not stored twice (issue 25): a client that lost its connection
before ``accepted`` resends it under the same ``client_id`` and gets the first one's
``accepted`` (and her stored reply), over the WebSocket and the OpenAI endpoint alike;
the key is unique per person, in both databases."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from fastapi.testclient import TestClient

from os1.config import Settings
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database, DuplicateError
from tests.unit.test_server import GatedModel, auth, openai_client, serve, sign_up

KEY = "6f1c2b9e-4b7a-4c55-9d1e-3a0f2e8b7c11"


@pytest.fixture
def model() -> GatedModel:
    return GatedModel()


@pytest.fixture
def client(settings: Settings, model: GatedModel) -> Iterator[TestClient]:
    client = serve(settings, model)
    yield client
    client.__exit__(None, None, None)


def send(client: TestClient, token: str, frame: dict[str, Any]) -> list[dict[str, Any]]:
    """One frame on a new connection; the frames that answered it."""
    with client.websocket_connect("/api/conversation") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "ready"
        ws.send_json(frame)
        frames = [ws.receive_json()]
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(ws.receive_json())
    return frames


def history(client: TestClient, token: str) -> list[dict[str, Any]]:
    return list(client.get("/api/history", headers=auth(token)).json())


@pytest.mark.both_backends
def test_a_message_sent_again_under_its_client_id_is_answered_from_what_is_stored(
        client: TestClient, model: GatedModel) -> None:
    token = sign_up(client, "theo")
    model.enqueue("I'm glad you wrote to her.")
    message = {"type": "message", "text": "I finished the letter.", "client_id": KEY}
    first = send(client, token, message)
    again = send(client, token, message)
    assert first[0] == {"type": "accepted", "message_id": first[0]["message_id"]}
    assert again[0] == {"type": "accepted", "message_id": first[0]["message_id"],
                        "repeat": True}
    assert again[1] == {"type": "piece", "text": "I'm glad you wrote to her."}
    assert again[-1] == first[-1]  # the same stored reply: its id and status
    assert len(model.calls) == 1, "answered once"
    stored = history(client, token)
    assert [(m["role"], m["client_id"]) for m in stored] == [("user", KEY),
                                                             ("assistant", None)]


def test_a_client_that_dropped_before_accepted_can_resend_and_is_stored_once(
        client: TestClient, model: GatedModel) -> None:
    """The drop came after her turn began (the message was stored, ``accepted`` went
    unread); the client reconnects and resends without looking at its history."""
    token, other = sign_up(client, "theo"), sign_up(client, "amy")
    state = client.app.state.os1  # type: ignore[attr-defined]
    model.release.clear()  # her reply is held: the turn is under way
    message = {"type": "message", "text": "Are you there?", "client_id": KEY}
    with client.websocket_connect("/api/conversation") as ws:
        ws.send_json({"type": "auth", "token": token})
        ws.receive_json()
        ws.send_json(message)
        deadline = time.monotonic() + 10  # a guard against hanging, not a timing
        while not history(client, token):
            assert time.monotonic() < deadline
            time.sleep(0.01)
    resent = send(client, token, message)  # her first reply is still being written
    assert resent[0]["type"] == "accepted" and resent[0]["repeat"] is True
    assert resent[-1] == {"type": "done", "message_id": None, "status": "unanswered"}
    model.release.set()
    deadline = time.monotonic() + 10
    while state.gate.status().running:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    users = [m for m in history(client, token) if m["role"] == "user"]
    assert [(m["content"], m["client_id"]) for m in users] == [("Are you there?", KEY)]
    # the key is this person's: Amy's message under the same key is hers, and answered
    amy = send(client, other, message)
    assert amy[0] == {"type": "accepted", "message_id": amy[0]["message_id"]}
    assert amy[-1]["status"] == "complete"


def test_a_bad_client_id_is_refused_and_nothing_is_stored(client: TestClient) -> None:
    token = sign_up(client, "theo")
    for bad in ("", "x" * 101, "has space", "../../etc", 42, ["a"]):
        answer = send(client, token, {"type": "message", "text": "hi", "client_id": bad})
        assert answer[0]["type"] == "error" and answer[0]["code"] == "invalid", bad
        assert "client_id" in answer[0]["message"]
    assert history(client, token) == []


def test_the_openai_endpoint_takes_the_key_in_the_body_or_idempotency_key(
        client: TestClient, model: GatedModel) -> None:
    token = sign_up(client, "theo")
    her = openai_client(client, token)
    model.enqueue("Paris is lovely in the spring.")
    asked = [{"role": "user", "content": "Tell me about Paris."}]
    first = her.chat.completions.create(model="os1", messages=asked,  # type: ignore[arg-type]
                                        extra_headers={"Idempotency-Key": KEY})
    retried = her.chat.completions.create(model="os1", messages=asked,  # type: ignore[arg-type]
                                          extra_body={"client_id": KEY})
    assert first.choices[0].message.content == retried.choices[0].message.content \
        == "Paris is lovely in the spring."
    assert retried.choices[0].finish_reason == "stop" and len(model.calls) == 1
    assert [m["content"] for m in history(client, token) if m["role"] == "user"] == \
        ["Tell me about Paris."]
    with pytest.raises(openai.BadRequestError, match="differ"):
        her.chat.completions.create(model="os1", messages=asked,  # type: ignore[arg-type]
                                    extra_headers={"Idempotency-Key": KEY},
                                    extra_body={"client_id": "another-key"})


@pytest.mark.both_backends
def test_a_client_id_is_unique_per_person_in_the_database(db: Database) -> None:
    theo, amy = ConversationLog(db, "account:1"), ConversationLog(db, "account:2")
    theos, amys = theo.start_session("server"), amy.start_session("server")
    kept = theo.append(theos, "user", "first", client_id=KEY)
    with pytest.raises(DuplicateError):
        theo.append(theos, "user", "second", client_id=KEY)
    assert amy.append(amys, "user", "hers", client_id=KEY).client_id == KEY
    theo.append(theos, "assistant", "no key")
    theo.append(theos, "assistant", "no key either")  # no key: never a clash
    assert theo.by_client_id(KEY) == kept and amy.by_client_id("unknown") is None
    assert [m.content for m in theo.all()] == ["first", "no key", "no key either"]
    reply = theo.reply_to(kept.id)
    assert reply is not None and reply.content == "no key"


def test_two_resends_at_once_store_the_message_once(client: TestClient,
                                                    model: GatedModel) -> None:
    token = sign_up(client, "theo")
    message = {"type": "message", "text": "Hello?", "client_id": KEY}
    answers: list[list[dict[str, Any]]] = []
    threads = [threading.Thread(target=lambda: answers.append(send(client, token, message)))
               for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(answers) == 3
    users = [m for m in history(client, token) if m["role"] == "user"]
    assert len(users) == 1
    for frames in answers:  # each was answered, or told to wait for the one under way
        assert frames[0]["type"] == "accepted" or frames[0]["code"] == "busy"
