"""``os1 chat --server``: a message whose connection broke before the server said it was
stored is sent once more under the same client_id, so it is neither lost nor doubled."""

from __future__ import annotations

import json
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError

from os1.errors import BackendUnavailable
from os1.ui.remote import RemoteCompanion


class FakeSocket:
    """One connection to a fake server that stores messages by client_id, as the real one
    does; ``breaks`` makes it drop after a message arrives (stored or not)."""

    def __init__(self, server: FakeServer) -> None:
        self.server = server
        self.outbox: list[dict[str, Any]] = []

    def send(self, data: str) -> None:
        frame = json.loads(data)
        if frame["type"] == "auth":
            self.outbox.append({"type": "ready", "companion": "Samantha", "username": "theo"})
            return
        self.server.received.append(frame)
        breaks = self.server.breaks.pop(0) if self.server.breaks else None
        if breaks == "before storing":
            raise ConnectionClosedError(None, None)
        repeat = frame["client_id"] in self.server.stored
        self.server.stored.setdefault(frame["client_id"], frame["text"])
        if breaks == "after storing":
            return  # the connection drops before "accepted" arrives
        self.outbox += [{"type": "accepted", "message_id": 1, "repeat": repeat},
                        {"type": "piece", "text": "Hello, Theo."},
                        {"type": "done", "status": "complete"}]

    def recv(self, timeout: float | None = None) -> str:
        if not self.outbox:
            raise ConnectionClosedError(None, None)
        return json.dumps(self.outbox.pop(0))

    def close(self) -> None:
        pass


class FakeServer:
    def __init__(self, breaks: list[str]) -> None:
        self.breaks = breaks
        self.received: list[dict[str, Any]] = []
        self.stored: dict[str, str] = {}
        self.connections = 0

    def connect(self, url: str, **options: Any) -> FakeSocket:
        self.connections += 1
        return FakeSocket(self)


@pytest.mark.parametrize("breaks", ["before storing", "after storing"])
def test_a_broken_send_is_sent_again_under_the_same_id(breaks: str) -> None:
    server = FakeServer([breaks])
    companion = RemoteCompanion("http://127.0.0.1:8000", "token", connect=server.connect)
    turn = companion.reply("Hi, I'm home.")
    assert "".join(turn) == "Hello, Theo."
    assert server.connections == 2
    ids = [frame["client_id"] for frame in server.received]
    assert len(ids) == 2 and ids[0] == ids[1], "the same message, under the same id"
    assert list(server.stored.values()) == ["Hi, I'm home."], "stored once"


def test_each_message_has_an_id_of_its_own() -> None:
    server = FakeServer([])
    companion = RemoteCompanion("http://127.0.0.1:8000", "token", connect=server.connect)
    for text in ("ok", "ok"):
        assert "".join(companion.reply(text)) == "Hello, Theo."
    assert len(server.stored) == 2, "two messages that read the same are two messages"


def test_a_second_break_is_a_clear_error() -> None:
    server = FakeServer(["before storing", "before storing"])
    companion = RemoteCompanion("http://127.0.0.1:8000", "token", connect=server.connect)
    with pytest.raises(BackendUnavailable, match="connection to the server broke"):
        companion.reply("Hi")
