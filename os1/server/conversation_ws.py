"""The conversation: its history (``GET /api/history``) and the WebSocket
``/api/conversation``.

Protocol (JSON text frames). The client's first frame authenticates, since browsers can't
set headers on a WebSocket: ``{"type": "auth", "token": ...}``. Then each
``{"type": "message", "text": ...}`` gets ``accepted`` (stored: never lost from here on),
``piece`` after ``piece`` of her reply, and ``done``. While the connection is open, her
calendar reminders for this person come as ``{"type": "reminder", "text": ...}`` (each
said once, here or in whichever other interface was open when it fell due). Problems come as
``{"type": "error", "code": ..., "message": ...}`` and the connection stays open, except for
a failed login (closed with 4401) and an oversize frame (closed with 1009).

A message may carry ``"client_id"`` (the client's key for it, such as a UUID): sent again
with a key already stored, it is not stored or answered again (``accepted`` with
``"repeat": true``, then her stored reply; see ``turn_stream.py``). The client's leaving is
heard at once, while its turn waits or runs (``sockets.Inbox``), and the turn is given
up. On shutdown the turns under way finish, new ones get the error ``unavailable``, and
the connection is closed with 1001 (``farewell.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import aclosing
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, WebSocket

from os1.calendar.reminders import Reminder, Reminders
from os1.data import read_toml
from os1.errors import DiskFull, InputError, OS1Error
from os1.server.accounts import Account, AuthError
from os1.server.dependencies import Me, Reading, State
from os1.server.gate import Busy, Unavailable
from os1.server.schemas import MessageOut
from os1.server.server_state import ServerState
from os1.server.sockets import (
    Gone,
    Inbox,
    NotJson,
    TooBig,
    log_in,
    refuse_too_big,
    send_json,
)
from os1.server.turn_stream import (
    Accepted,
    ClientGone,
    Finished,
    Piece,
    check_client_id,
    run_turn,
)
from os1.storage.conversations import ConversationLog

router = APIRouter()


@router.get("/api/history", response_model=list[MessageOut], tags=["you"])
def history(account: Me, db: Reading,
            limit: Annotated[int, Query(ge=1, le=500)] = 50,
            before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
            ) -> list[MessageOut]:
    """Your conversation with her, oldest first; ``before`` pages back."""
    log = ConversationLog(db, account.user_id)
    messages = log.before(before, limit) if before else log.recent(limit)
    return [MessageOut(id=m.id, role=m.role, content=m.content, status=m.status,
                       created_at=m.created_at, client_id=m.client_id)
            for m in messages]


@router.websocket("/api/conversation")
async def conversation(ws: WebSocket, state: State) -> None:
    await ws.accept()
    with state.farewell.connection(ws), contextlib.suppress(Gone):
        account = await log_in(ws, state)
        if account is None:
            return
        leaving = asyncio.Event()
        reminding = asyncio.create_task(_remind(ws, state, account, leaving))
        try:
            await _talk(ws, state, account)
        finally:
            leaving.set()  # not cancelled: a reminder it claimed is sent or given back
            await reminding


async def _talk(ws: WebSocket, state: ServerState, account: Account) -> None:
    most = int(state.limits["max_frame_bytes"])
    inbox = Inbox(ws, most)
    try:
        while True:
            frame = await inbox.next()
            if isinstance(frame, TooBig):
                await refuse_too_big(ws, frame.size, most)
            if isinstance(frame, NotJson):
                await send_json(ws, {"type": "error", "code": "bad_json",
                                     "message": "Each frame must be a JSON object, such as "
                                                '{"type": "message", "text": "Hello"}.'})
                continue
            text = frame.get("text")
            if frame.get("type") != "message" or not isinstance(text, str):
                await send_json(ws, {"type": "error", "code": "bad_frame",
                                     "message": 'Send {"type": "message", "text": "..."}.'})
                continue
            with state.farewell.turn(ws):
                if not await _answer(ws, state, account, frame, inbox.gone):
                    return
    finally:
        await inbox.close()


async def _answer(ws: WebSocket, state: ServerState, account: Account,
                  frame: dict[str, Any], gone: asyncio.Event) -> bool:
    """One message, answered (or refused with an error frame); False once the connection
    has ended (the token was revoked)."""
    try:
        await asyncio.to_thread(state.accounts.still_signed_in, account)
    except AuthError as error:
        await send_json(ws, {"type": "error", "code": "unauthorised", "message": str(error)})
        await ws.close(4401)
        return False
    try:
        client_id = check_client_id(frame.get("client_id"))
        state.limiter.check(account.user_id)
        turn = run_turn(state, account, frame["text"], client_id, until=(gone,))
        async with aclosing(turn) as events:
            async for event in events:
                await send_json(ws, _frame(event))
    except ClientGone as exc:
        raise Gone() from exc
    except Unavailable as error:
        await send_json(ws, {"type": "error", "code": "unavailable", "message": str(error),
                             "retry_after_s": error.retry_after_s})
    except Busy as error:
        await send_json(ws, {"type": "error", "code": "busy", "message": str(error),
                             "retry_after_s": error.retry_after_s})
    except InputError as error:
        await send_json(ws, {"type": "error", "code": "invalid", "message": str(error),
                             "hint": error.hint})
    except DiskFull:
        message, hint = DiskFull.for_clients
        await send_json(ws, {"type": "error", "code": "disk_full", "message": message,
                             "hint": hint})
    except OS1Error as error:
        await send_json(ws, {"type": "error", "code": "failed", "message": str(error),
                             "hint": error.hint})
    return True


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
                await send_json(ws, {"type": "reminder", "text": line})
            except Gone:  # the conversation's own loop hears of it too
                await asyncio.to_thread(_unsay, state, account, [r for r, _ in due[n:]])
                return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(leaving.wait(), every_s)


def _due_reminders(state: ServerState, account: Account) -> list[tuple[Reminder, str]]:
    with state.reading() as db:
        reminders = Reminders(db, account.user_id)
        now = datetime.now(UTC)
        return [(r, reminders.line(r, now)) for r in reminders.due(now)]


def _unsay(state: ServerState, account: Account, undelivered: list[Reminder]) -> None:
    with state.reading() as db:
        Reminders(db, account.user_id).unsay(undelivered)


def _frame(event: Accepted | Piece | Finished) -> dict[str, Any]:
    if isinstance(event, Accepted):
        accepted: dict[str, Any] = {"type": "accepted", "message_id": event.message_id}
        return {**accepted, "repeat": True} if event.repeat else accepted
    if isinstance(event, Piece):
        return {"type": "piece", "text": event.text}
    return {"type": "done", "message_id": event.message_id, "status": event.status}
