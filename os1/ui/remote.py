"""Talking with her on an ``os1 serve`` server from the terminal (``os1 chat --server``).

``RemoteCompanion`` offers the few things the terminal chat asks of a companion: her name,
a reply as a stream of pieces, and the session calls, which a server does itself. Logins
are kept per server URL in ``servers.json`` in the data dir, readable by the user only.

Each message goes with a ``client_id`` of its own. If the connection breaks before the
server says it was stored, it is sent once more, on a new connection, under the same id:
a message the server did store is then not stored or answered twice (the server answers
with what it has), and one it never got is not lost.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from os1.errors import BackendUnavailable, InputError, OS1Error
from os1.mind.turn import Turn

TIMEOUT_S = 300.0


@dataclass(frozen=True)
class RemoteIdentity:
    companion_name: str
    user_name: str


class LoginStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def token_for(self, url: str) -> str:
        token = self._read().get(normalise(url))
        if not token:
            raise OS1Error(f"You are not logged in to {url}.", f"Run: os1 login {url}")
        return str(token)

    def save(self, url: str, token: str) -> None:
        logins = self._read()
        logins[normalise(url)] = token
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(logins, f, indent=1)
        os.replace(partial, self.path)

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


def normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


def log_in(url: str, username: str, password: str, sign_up: bool = False) -> str:
    """A new login token (signing up first if asked)."""
    base = normalise(url)
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            if sign_up:
                _check(client.post("/api/accounts", json={"username": username,
                                                          "password": password}))
            answer = client.post("/api/sessions", json={"username": username,
                                                        "password": password})
            _check(answer)
            return str(answer.json()["token"])
    except httpx.TransportError as exc:
        raise BackendUnavailable(f"Can't reach {base}: {exc}.",
                                 "Is `os1 serve` running there?") from exc


def _check(answer: httpx.Response) -> None:
    if answer.is_success:
        return
    try:
        error = answer.json()["error"]
        message, hint = str(error["message"]), str(error.get("hint") or "")
    except (ValueError, KeyError, TypeError):
        message, hint = f"The server answered {answer.status_code}.", ""
    raise InputError(message, hint)


class RemoteCompanion:
    def __init__(self, url: str, token: str, connect: Callable[..., Any] | None = None) -> None:
        """``connect``: opens a WebSocket (websockets' sync client; a fake in tests)."""
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect as ws_connect

        self._errors = (OSError, WebSocketException)
        base = normalise(url)
        self._ws_url = base.replace("http", "ws", 1) + "/api/conversation"
        self._token = token
        self._connect = connect or ws_connect
        self._ws: Any = None
        self.identity = RemoteIdentity("her", "")
        self._open()

    def open_session(self, client: str) -> None:
        """The server keeps her sessions."""

    def greet(self) -> Turn | None:
        return None

    def warm_up(self) -> None:
        """The server keeps her model warm."""

    def reply(self, text: str) -> Turn:
        frame = json.dumps({"type": "message", "text": text, "client_id": uuid.uuid4().hex})
        try:
            first = self._sent(frame)
        except BackendUnavailable:
            first = self._sent(frame)  # once more, on a new connection, under the same id
        if first["type"] == "error":
            raise _error(first)
        turn = Turn(iter(()))
        return turn.streaming(self._pieces(turn))

    def _sent(self, frame: str) -> dict[str, Any]:
        """The server's first answer to ``frame`` (``accepted`` or an error)."""
        if self._ws is None:
            self._open()
        try:
            self._ws.send(frame)
            return dict(json.loads(self._ws.recv(TIMEOUT_S)))
        except self._errors as exc:
            self._ws = None
            raise BackendUnavailable(f"The connection to the server broke: {exc}.") from exc

    def close(self) -> None:
        if self._ws is not None:
            self._ws.close()
            self._ws = None

    def _open(self) -> None:
        try:
            self._ws = self._connect(self._ws_url, open_timeout=30, max_size=2**22)
            self._ws.send(json.dumps({"type": "auth", "token": self._token}))
            ready = json.loads(self._ws.recv(30))
        except self._errors as exc:
            self._ws = None
            raise BackendUnavailable(f"Can't reach {self._ws_url}: {exc}.",
                                     "Is `os1 serve` running there?") from exc
        if ready.get("type") != "ready":
            self.close()
            raise OS1Error(str(ready.get("message", "The server refused the login.")),
                           "Log in again: os1 login URL")
        self.identity = RemoteIdentity(str(ready.get("companion", "her")),
                                       str(ready.get("username", "")))

    def _pieces(self, turn: Turn) -> Iterator[str]:
        """Her reply as it arrives. Stopping early (Ctrl-C) drops the connection, which
        the server takes as the end of the turn: it stores what she had said."""
        finished = False
        try:
            while True:
                frame = json.loads(self._ws.recv(TIMEOUT_S))
                if frame["type"] == "piece":
                    turn.text += frame["text"]
                    yield frame["text"]
                elif frame["type"] == "done":
                    turn.status = frame.get("status", "complete")
                    finished = True
                    return
                elif frame["type"] == "error":
                    finished = True
                    raise _error(frame)
        except self._errors as exc:
            raise BackendUnavailable(f"The connection to the server broke: {exc}.") from exc
        finally:
            if not finished:
                turn.status = "interrupted"
                self.close()


def _error(frame: dict[str, Any]) -> OS1Error:
    hint = str(frame.get("hint") or "")
    if frame.get("retry_after_s"):
        hint = f"Try again in {frame['retry_after_s']} s."
    kind = InputError if frame.get("code") in ("invalid", "bad_frame") else OS1Error
    return kind(str(frame.get("message", "The server could not answer.")), hint)
