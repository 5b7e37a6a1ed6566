"""SIGTERM doesn't cut her off (issue 25): a real ``os1 serve`` on the scripted model,
held mid-reply, is sent SIGTERM; the reply goes on to its end and is stored complete,
new turns are refused as unavailable meanwhile, and then every conversation is closed
with 1001 (going away)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from os1.server.gate import Busy, TurnGate, Unavailable

PASSWORD = "correct horse battery"
REPLY = ("The lighthouse keeper climbed the stairs. His cat followed him up, one step "
         "at a time. At the top they watched the ships come in.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def until(condition: Any, what: str, within: float = 60) -> None:
    deadline = time.monotonic() + within  # a guard against hanging, not a timing
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.fixture
def held(tmp_path: Path) -> Path:
    """The file whose appearance lets her go on after her first sentence."""
    return tmp_path / "go on"


@pytest.fixture
def server(tmp_path: Path, held: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps({"replies": [REPLY], "hold_until": str(held)}))
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "os1", "serve", "--port", str(port), "--no-memory",
         "--model", f"fake:{replies}"], stdout=log, stderr=log,
        env={**os.environ, "OS1_HOME": str(tmp_path / "home"), "PYTHONUNBUFFERED": "1"})
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        try:
            return bool(httpx.get(f"{url}/api/status").json()["state"] == "ready")
        except httpx.TransportError:
            return False

    until(ready, "os1 serve did not start")
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait(30)
    log.close()


def token_for(url: str, name: str) -> str:
    httpx.post(f"{url}/api/accounts", json={"username": name, "password": PASSWORD})
    return str(httpx.post(f"{url}/api/sessions", json={"username": name,
                                                      "password": PASSWORD}).json()["token"])


@contextmanager
def opened(url: str, token: str) -> Iterator[ClientConnection]:
    with connect(url.replace("http", "ws") + "/api/conversation", open_timeout=30) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(ws.recv(30))["type"] == "ready"
        yield ws


def closed_with(ws: ClientConnection) -> int | None:
    """The close code the server sent, once every frame before it was read."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            ws.recv(30)
    return closed.value.rcvd.code if closed.value.rcvd else None


def test_sigterm_mid_reply_finishes_it_whole_refuses_new_turns_and_closes_with_1001(
        server: tuple[subprocess.Popen[bytes], str], held: Path, tmp_path: Path) -> None:
    process, url = server
    theo, amy = token_for(url, "theo"), token_for(url, "amy")
    with opened(url, theo) as talking, opened(url, amy) as other:
        talking.send(json.dumps({"type": "message", "text": "Tell me a story."}))
        assert json.loads(talking.recv(30))["type"] == "accepted"
        first = json.loads(talking.recv(30))
        assert first == {"type": "piece", "text": "The lighthouse keeper climbed the stairs."}
        process.send_signal(signal.SIGTERM)  # she is held after her first sentence
        until(lambda: httpx.get(f"{url}/api/status").json()["state"] == "shutting_down",
              "shutting down")
        other.send(json.dumps({"type": "message", "text": "Are you there?"}))
        refused = json.loads(other.recv(30))
        assert (refused["type"], refused["code"]) == ("error", "unavailable")
        asked = httpx.post(f"{url}/v1/chat/completions", headers={
            "Authorization": f"Bearer {amy}"}, json={"model": "os1", "messages": [
                {"role": "user", "content": "Hello?"}]})
        assert asked.status_code == 503 and asked.json()["error"]["type"] == "unavailable"
        held.touch()  # she goes on
        frames = [first]
        while frames[-1]["type"] != "done":
            frames.append(json.loads(talking.recv(30)))
        assert "".join(f["text"] for f in frames if f["type"] == "piece") == REPLY
        assert frames[-1]["status"] == "complete"
        assert closed_with(talking) == 1001 and closed_with(other) == 1001
    assert process.wait(60) in (0, -signal.SIGTERM)
    db = sqlite3.connect(tmp_path / "home" / "os1.db")
    try:
        stored = db.execute("SELECT role, status, content FROM messages ORDER BY id").fetchall()
    finally:
        db.close()
    assert stored == [("user", "complete", "Tell me a story."), ("assistant", "complete", REPLY)]


def test_going_to_sleep_sends_the_waiting_away_and_keeps_the_running() -> None:
    async def scenario() -> tuple[list[BaseException | None], int]:
        gate = TurnGate(slots=1, max_waiting=4)
        results: list[BaseException | None] = []

        async def take(name: str) -> None:
            try:
                async with gate.turn(name):
                    await asyncio.sleep(0.01)
                results.append(None)
            except Busy as error:
                results.append(error)

        async with gate.turn("running"):
            waiting = [asyncio.create_task(take(n)) for n in ("a", "b")]
            await asyncio.sleep(0.01)
            assert gate.status().waiting == 2
            refused = gate.refuse_waiting(Unavailable("Going to sleep.", 30))
            await asyncio.gather(*waiting)
            assert gate.status().running == 1  # the running turn is untouched
        async with gate.turn("after"):  # and the slot is free again after it
            pass
        return results, refused

    results, refused = asyncio.run(scenario())
    assert refused == 2 and all(isinstance(r, Unavailable) for r in results)
