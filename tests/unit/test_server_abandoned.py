"""Work for clients that are gone is given up (issue 25): their turns waiting in the queue
leave it, so the people still there are served rather than told "busy", and a reply
being written for nobody stops. Over the WebSocket, the voice WebSocket, and the OpenAI
endpoint streaming and not, each on a real uvicorn (TestClient cancels the app when a
test's connection closes, which is not what a client that goes away does)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from os1.config import Settings
from os1.llm.base import GenerateOptions, Message
from os1.llm.fake import FakeCall, FakeModel
from os1.server.app import create_app
from os1.server.gate import TurnGate
from os1.voice.fakes import ScriptedSTT, quiet, tone
from tests.unit.test_server import GatedModel, auth
from tests.unit.test_server_voice import Ears, pcm
from tests.uvicorn_server import live

PASSWORD = "correct horse battery"


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 10  # a guard against hanging, not a timing
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


@pytest.fixture
def model() -> GatedModel:
    return GatedModel()


def test_websocket_turns_whose_clients_left_the_queue_make_room_for_the_next(
        settings: Settings, model: GatedModel) -> None:
    app = create_app(settings, lambda: model)
    gate: TurnGate = app.state.os1.gate
    gate.max_waiting = 2
    with live(app) as url:
        tokens = [token_for(url, f"user{n}") for n in range(4)]
        model.release.clear()
        first = threading.Thread(target=talk_live, args=(url, tokens[0], "I'm first."))
        first.start()
        until(lambda: gate.status().running == 1, "the first turn runs")
        with ExitStack() as leaving:  # two more wait, then their clients go
            for token in tokens[1:3]:
                ws = leaving.enter_context(connect(url.replace("http", "ws")
                                                   + "/api/conversation"))
                ws.send(json.dumps({"type": "auth", "token": token}))
                ws.recv(30)
                ws.send(json.dumps({"type": "message", "text": "Anyone there?"}))
            until(lambda: gate.status().waiting == 2, "two wait")
        until(lambda: gate.status().waiting == 0, "the gone gave their places up")
        answers: list[list[dict[str, Any]]] = []
        last = threading.Thread(target=lambda: answers.append(talk_live(url, tokens[3], "Me?")))
        last.start()
        until(lambda: gate.status().waiting == 1, "the newcomer waits: not busy")
        model.release.set()
        for thread in (first, last):
            thread.join(30)
        assert answers[0][0]["type"] == "accepted" and answers[0][-1]["status"] == "complete"
        for token in tokens[1:3]:  # nothing of the gone was stored or answered
            assert httpx.get(f"{url}/api/history", headers=auth(token)).json() == []
        assert len(model.calls) == 2


def talk_live(url: str, token: str, text: str) -> list[dict[str, Any]]:
    """One message over a real WebSocket; the frames that answered it."""
    with connect(url.replace("http", "ws") + "/api/conversation") as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        ws.recv(30)
        ws.send(json.dumps({"type": "message", "text": text}))
        frames = [json.loads(ws.recv(30))]
        while frames[-1]["type"] not in ("done", "error"):
            frames.append(json.loads(ws.recv(30)))
    return frames


def test_a_spoken_turn_whose_client_left_while_it_waited_gives_its_place_up(
        settings: Settings, model: GatedModel) -> None:
    app = create_app(settings, lambda: model)
    app.state.voice_parts = Ears(ScriptedSTT(deque(["Hello?"]))).parts
    gate: TurnGate = app.state.os1.gate
    with live(app) as url:
        talker, speaker = token_for(url, "theo"), token_for(url, "amy")
        model.release.clear()
        first = threading.Thread(target=talk_live, args=(url, talker, "I'm first."))
        first.start()
        until(lambda: gate.status().running == 1, "the first turn runs")
        with connect(url.replace("http", "ws") + "/api/voice") as ws:
            ws.send(json.dumps({"type": "auth", "token": speaker}))
            ws.recv(30)
            for frame in pcm(quiet(0.3).then(tone(1.0)).then(quiet(2.5))):
                ws.send(frame)
            until(lambda: gate.status().waiting == 1, "her spoken turn waits")
        until(lambda: gate.status().waiting == 0, "it left with its client")
        model.release.set()
        first.join(30)
        assert httpx.get(f"{url}/api/history", headers=auth(speaker)).json() == []


# -- the OpenAI endpoint on a real server -------------------------------------------------


def token_for(url: str, name: str) -> str:
    made = httpx.post(f"{url}/api/accounts", json={"username": name, "password": PASSWORD})
    assert made.status_code == 201, made.text
    login = httpx.post(f"{url}/api/sessions", json={"username": name, "password": PASSWORD})
    return str(login.json()["token"])


def ask(url: str, token: str, text: str, stream: bool = False) -> socket.socket:
    """A chat completion request sent on a socket of its own, left unread."""
    body = json.dumps({"model": "os1", "stream": stream,
                       "messages": [{"role": "user", "content": text}]}).encode()
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                       + f"Authorization: Bearer {token}\r\n".encode()
                       + b"Content-Type: application/json\r\n"
                       + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    return connection


def answer_to(url: str, token: str, text: str) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", headers=auth(token), timeout=60,
                      json={"model": "os1", "messages": [{"role": "user", "content": text}]})


@pytest.mark.parametrize("stream", [False, True])
def test_openai_requests_whose_clients_hung_up_leave_the_queue(
        settings: Settings, model: GatedModel, stream: bool) -> None:
    app = create_app(settings, lambda: model)
    gate: TurnGate = app.state.os1.gate
    gate.max_waiting = 2
    with live(app) as url:
        tokens = [token_for(url, f"user{n}") for n in range(4)]
        model.release.clear()
        first = ask(url, tokens[0], "I'm first.")
        until(lambda: gate.status().running == 1, "the first turn runs")
        gone = [ask(url, token, "Anyone there?", stream) for token in tokens[1:3]]
        until(lambda: gate.status().waiting == 2, "two wait")
        for connection in gone:
            connection.close()
        until(lambda: gate.status().waiting == 0, "the gone gave their places up")
        answers: list[httpx.Response] = []
        last = threading.Thread(target=lambda: answers.append(answer_to(url, tokens[3], "Me?")))
        last.start()
        until(lambda: gate.status().waiting == 1, "the newcomer waits: not 429")
        model.release.set()
        last.join(30)
        first.close()
        assert answers[0].status_code == 200
        assert answers[0].json()["choices"][0]["message"]["content"] == "You said: Me?"
        for token in tokens[1:3]:
            assert httpx.get(f"{url}/api/history", headers=auth(token)).json() == []


class EndlessModel(FakeModel):
    """Writes on and on, a word at a time, until the turn stops reading."""

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) \
            -> Iterator[str]:
        self.calls.append(FakeCall(list(messages), options))

        def words() -> Iterator[str]:
            for n in range(100_000):
                time.sleep(0.01)
                yield f"word{n} "
        return words()


def test_a_reply_being_written_for_a_client_that_hung_up_stops(settings: Settings) -> None:
    app = create_app(settings, EndlessModel)
    gate: TurnGate = app.state.os1.gate
    with live(app) as url:
        token = token_for(url, "theo")
        leaving = ask(url, token, "Tell me a long story.")
        until(lambda: gate.status().running == 1, "her reply is under way")
        leaving.close()
        until(lambda: gate.status().running == 0, "the turn stopped with its client")
        stored = httpx.get(f"{url}/api/history", headers=auth(token)).json()
        assert [(m["role"], m["status"]) for m in stored] == [
            ("user", "complete"), ("assistant", "interrupted")]
