"""The WebSocket conversation: ``/api/conversation``.

Protocol (JSON text frames). The client's first frame authenticates, since browsers can't
set headers on a WebSocket: ``{"type": "auth", "token": ...}``. Then each
``{"type": "message", "text": ...}`` gets ``accepted`` (stored: never lost from here on),
``piece`` after ``piece`` of her reply, and ``done``. While the connection is open, her
calendar reminders for this person come as ``{"type": "reminder", "text": ...}`` (each
said once, here or in whichever other interface was open when it fell due). Problems come as
``{"type": "error", "code": ..., "message": ...}`` and the connection stays open, except for
a failed login (closed with 4401) and an oversize frame (closed with 1009).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from os1.calendar.reminders import Reminder, Reminders
from os1.data import read_toml
from os1.errors import InputError, OS1Error
from os1.server.accounts import Account, AuthError
from os1.server.gate import Busy
from os1.server.turns import Accepted, Finished, Piece, run_turn

if TYPE_CHECKING:
    from os1.server.app import ServerState

AUTH_TIMEOUT_S = 10.0


class Gone(Exception):
    """The client closed the connection."""


def conversation_routes(app: FastAPI, state: ServerState) -> None:
    @app.websocket("/api/conversation")
    async def conversation(ws: WebSocket) -> None:
        await ws.accept()
        try:
            account = await _log_in(ws, state)
            if account is None:
                return
            leaving = asyncio.Event()
            reminding = asyncio.create_task(_remind(ws, state, account, leaving))
            try:
                await _talk(ws, state, account)
            finally:
                leaving.set()  # not cancelled: a reminder it claimed is sent or given back
                await reminding
        except Gone:
            return



async def _receive(ws: WebSocket, state: ServerState, timeout: float | None = None) \
        -> dict[str, Any] | None:
    """The next frame as a JSON object; None (and an error sent) if it is not one."""
    try:
        message = await asyncio.wait_for(ws.receive(), timeout)
    except (WebSocketDisconnect, RuntimeError) as exc:
        raise Gone() from exc
    if message["type"] == "websocket.disconnect":
        raise Gone()
    raw = message.get("text") or message.get("bytes") or ""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    if size > int(state.limits["max_frame_bytes"]):
        await _send(ws, {"type": "error", "code": "too_big",
                         "message": f"That frame is {size:,} bytes; the most is "
                                    f"{int(state.limits['max_frame_bytes']):,}."})
        await ws.close(1009)
        raise Gone()
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict):
        await _send(ws, {"type": "error", "code": "bad_json",
                         "message": "Each frame must be a JSON object, such as "
                                    '{"type": "message", "text": "Hello"}.'})
        return None
    return data


async def _log_in(ws: WebSocket, state: ServerState) -> Account | None:
    try:
        frame = await _receive(ws, state, AUTH_TIMEOUT_S)
    except TimeoutError:
        frame = None
    token = frame.get("token") if frame and frame.get("type") == "auth" else None
    try:
        if not isinstance(token, str):
            raise AuthError('The first frame must be {"type": "auth", "token": "..."}.')
        account = state.accounts.account_for(token)
    except AuthError as error:
        await _send(ws, {"type": "error", "code": "unauthorised", "message": str(error)})
        await ws.close(4401)
        return None
    await _send(ws, {"type": "ready", "username": account.username,
                     "companion": _her_name(state, account)})
    return account


def _her_name(state: ServerState, account: Account) -> str:
    """The name she chose in this person's setup; the server's until there is one."""
    from os1.server.person import _reading
    from os1.storage.setups import SetupStore

    with _reading(state) as db:
        setup = SetupStore(db, account.user_id).current()
    return setup.companion_name if setup else read_toml("server.toml")["companion"]["name"]


async def _talk(ws: WebSocket, state: ServerState, account: Account) -> None:
    while True:
        frame = await _receive(ws, state)
        if frame is None:
            continue
        text = frame.get("text")
        if frame.get("type") != "message" or not isinstance(text, str):
            await _send(ws, {"type": "error", "code": "bad_frame",
                             "message": 'Send {"type": "message", "text": "..."}.'})
            continue
        try:
            await asyncio.to_thread(state.accounts.still_signed_in, account)
        except AuthError as error:
            await _send(ws, {"type": "error", "code": "unauthorised", "message": str(error)})
            await ws.close(4401)
            return
        try:
            state.limiter.check(account.user_id)
            async with aclosing(run_turn(state, account, text)) as events:
                async for event in events:
                    await _send(ws, _frame(event))
        except Busy as error:
            await _send(ws, {"type": "error", "code": "busy", "message": str(error),
                             "retry_after_s": error.retry_after_s})
        except InputError as error:
            await _send(ws, {"type": "error", "code": "invalid", "message": str(error),
                             "hint": error.hint})
        except OS1Error as error:
            await _send(ws, {"type": "error", "code": "failed", "message": str(error),
                             "hint": error.hint})


async def _remind(ws: WebSocket, state: ServerState, account: Account,
                  leaving: asyncio.Event) -> None:
    """Her reminders ("you have a meeting in five minutes") while this person is here: what
    is due as they arrive, then a check every few seconds until ``leaving`` is set."""
    every_s = float(read_toml("server.toml")["reminders"]["check_every_s"])
    while not leaving.is_set():
        try:
            due = await asyncio.to_thread(_due_reminders, state, account)
        except OS1Error:
            due = []  # a locked or unreachable database now is no reason to stop
        for n, (_, line) in enumerate(due):
            try:
                await _send(ws, {"type": "reminder", "text": line})
            except Gone:  # the conversation's own loop hears of it too
                await asyncio.to_thread(_unsay, state, account, [r for r, _ in due[n:]])
                return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(leaving.wait(), every_s)


def _due_reminders(state: ServerState, account: Account) -> list[tuple[Reminder, str]]:
    from os1.server.person import _reading

    with _reading(state) as db:
        reminders = Reminders(db, account.user_id)
        now = datetime.now(UTC)
        return [(r, reminders.line(r, now)) for r in reminders.due(now)]


def _unsay(state: ServerState, account: Account, undelivered: list[Reminder]) -> None:
    from os1.server.person import _reading

    with _reading(state) as db:
        Reminders(db, account.user_id).unsay(undelivered)


def _frame(event: Accepted | Piece | Finished) -> dict[str, Any]:
    if isinstance(event, Accepted):
        return {"type": "accepted", "message_id": event.message_id}
    if isinstance(event, Piece):
        return {"type": "piece", "text": event.text}
    return {"type": "done", "message_id": event.message_id, "status": event.status}


async def _send(ws: WebSocket, data: dict[str, Any]) -> None:
    try:
        await ws.send_json(data)
    except (WebSocketDisconnect, RuntimeError, OSError) as exc:
        raise Gone() from exc
