"""What both WebSockets (``/api/conversation`` and ``/api/voice``) do alike: the first
frame logs in, frames are bounded and read as JSON objects without any frame being able
to crash the handler, and a client's leaving is heard even while she is answering it.

Found by attack (issue 25): a frame of 60,000 nested brackets (120 KB, under the frame
limit) raised RecursionError in the JSON parser, before login as after, and the handler
died with a traceback in the log; and a binary frame holding the auth JSON logged in,
though binary frames are the voice's audio.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

from starlette.types import Message
from starlette.websockets import WebSocket, WebSocketDisconnect

from os1.data import read_toml
from os1.server.accounts import Account, AuthError
from os1.server.turn_stream import next_or_none
from os1.storage.setups import SetupStore

if TYPE_CHECKING:
    from os1.server.server_state import ServerState

AUTH_TIMEOUT_S = 10.0
READ_AHEAD = 8  # frames read while she answers; past them the client's sending waits


class Gone(Exception):
    """The client closed the connection (or it was closed)."""


@dataclass(frozen=True)
class TooBig:
    size: int


@dataclass(frozen=True)
class NotJson:
    """A frame that is not a JSON object."""


Frame = dict[str, Any] | TooBig | NotJson


async def receive(ws: WebSocket, timeout: float | None = None) -> Message:
    """The next message; Gone once the client has left. TimeoutError after ``timeout``."""
    try:
        message = await asyncio.wait_for(ws.receive(), timeout)
    except (WebSocketDisconnect, RuntimeError) as exc:
        raise Gone() from exc
    if message["type"] == "websocket.disconnect":
        raise Gone()
    return message


def json_object(raw: str | bytes) -> dict[str, Any] | None:
    """``raw`` as a JSON object, or None: any malformed, deeply nested or non-object JSON."""
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return data if isinstance(data, dict) else None


def frame_of(message: Message, max_bytes: int) -> Frame:
    raw = message.get("text") or message.get("bytes") or ""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > max_bytes:
        return TooBig(size)
    data = json_object(raw)
    return NotJson() if data is None else data


async def send_json(ws: WebSocket, data: dict[str, Any]) -> None:
    try:
        await ws.send_json(data)
    except (WebSocketDisconnect, RuntimeError, OSError) as exc:
        raise Gone() from exc


async def refuse_too_big(ws: WebSocket, size: int, most: int) -> NoReturn:
    """Say so, close with 1009, and end the connection (Gone)."""
    await send_json(ws, {"type": "error", "code": "too_big",
                         "message": f"That frame is {size:,} bytes; the most is {most:,}."})
    await ws.close(1009)
    raise Gone()


async def log_in(ws: WebSocket, state: ServerState) -> Account | None:
    """The account of the first frame, a *text* frame ``{"type": "auth", "token": ...}``
    sent within ``AUTH_TIMEOUT_S``; else an ``unauthorised`` error, close 4401 and None."""
    most = int(state.limits["max_frame_bytes"])
    try:
        message = await receive(ws, AUTH_TIMEOUT_S)
    except TimeoutError:
        message = {"type": "websocket.receive", "text": ""}
    frame = frame_of(message, most) if message.get("text") is not None else NotJson()
    if isinstance(frame, TooBig):
        await refuse_too_big(ws, frame.size, most)
    token = frame.get("token") if isinstance(frame, dict) and frame.get("type") == "auth" \
        else None
    try:
        if not isinstance(token, str):
            raise AuthError('The first frame must be the text frame '
                            '{"type": "auth", "token": "..."}.')
        account = await asyncio.to_thread(state.accounts.account_for, token)
    except AuthError as error:
        await send_json(ws, {"type": "error", "code": "unauthorised", "message": str(error)})
        await ws.close(4401)
        return None
    name = await asyncio.to_thread(_her_name, state, account)
    await send_json(ws, {"type": "ready", "username": account.username, "companion": name})
    return account


def _her_name(state: ServerState, account: Account) -> str:
    """The name she chose in this person's setup; the server's until there is one."""
    with state.reading() as db:
        setup = SetupStore(db, account.user_id).current()
    return setup.companion_name if setup else read_toml("server.toml")["companion"]["name"]


class Inbox:
    """The frames of one connection, read as they come (up to ``READ_AHEAD`` ahead of
    the handler), so that ``gone`` is set the moment the client leaves: a turn of theirs
    waiting in the queue then gives its place up instead of holding it for nobody."""

    def __init__(self, ws: WebSocket, max_bytes: int) -> None:
        self.gone = asyncio.Event()
        self._ws = ws
        self._max_bytes = max_bytes
        self._frames: asyncio.Queue[Frame] = asyncio.Queue(READ_AHEAD)
        self._reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                frame = frame_of(await receive(self._ws), self._max_bytes)
                await self._frames.put(frame)
                if isinstance(frame, TooBig):
                    return  # the handler closes the connection when it comes to it
        except Gone:
            self.gone.set()

    async def next(self) -> Frame:
        """The next frame; Gone once the client has left (what it sent but was not yet
        taken is dropped: nothing of it was accepted)."""
        frame = await next_or_none(self._frames, (self.gone,))
        if frame is None:
            raise Gone()
        return frame

    async def close(self) -> None:
        self._reading.cancel()
        await asyncio.gather(self._reading, return_exceptions=True)
