"""One person's turn, run in a worker thread and streamed to async code.

The companion and the model are synchronous, so the turn runs in its own thread (inside
the person's place in ``TurnGate``) and hands each piece to the event loop. Leaving the
iteration early (the client went away) gives up a place still waiting, and stops a turn
already generating at its next piece; it is stored as interrupted, as far as it got.
A caller that learns of the client's leaving by other means (its own socket read, an
HTTP disconnect) passes an event in ``until``: once it is set the turn ends the same way,
at once, and the iteration raises ``ClientGone`` (issue 25: the gone held queue places
while the people still there were told "busy").

A message may carry a client id (``client_id``, the client's own idempotency key, such as
a UUID). A message whose id this person has already stored is not stored or answered
again: the turn is its earlier ``Accepted`` (``repeat``) and, if her reply is stored,
that reply. So a client that lost its connection before ``accepted`` can send again
without checking first whether the message arrived.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from os1.errors import InputError, MessageTooLong
from os1.mind.companion import Companion
from os1.server.accounts import Account
from os1.server.server_state import ServerState
from os1.storage.conversations import ConversationLog
from os1.storage.db import DuplicateError

MAX_CLIENT_ID_CHARS = 100
_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
T = TypeVar("T")


class ClientGone(Exception):
    """The client left (an event in ``until`` was set): the turn was given up."""


def check_client_id(value: object) -> str | None:
    """A message's client id as given, None if there is none; InputError saying what is
    wrong with a bad one (nothing is stored)."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InputError("client_id must be a non-empty string, such as a UUID.")
    if len(value) > MAX_CLIENT_ID_CHARS or not _CLIENT_ID.fullmatch(value):
        raise InputError(f"client_id must be 1 to {MAX_CLIENT_ID_CHARS} letters, digits and "
                         "'.', '_', ':' or '-', starting with a letter or digit (a UUID "
                         "will do). Nothing was stored.")
    return value


@dataclass(frozen=True)
class Accepted:
    """What the person said is stored (durably): from here on it is never lost."""

    message_id: int
    repeat: bool = False  # stored before, under the same client id: not stored again


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Finished:
    message_id: int | None
    status: str
    text: str


Event = Accepted | Piece | Finished


async def run_turn(state: ServerState, account: Account, text: str,
                   client_id: str | None = None, until: Sequence[asyncio.Event] = (),
                   ) -> AsyncGenerator[Event, None]:
    limit = int(state.limits["max_message_chars"])
    if len(text) > limit:
        raise MessageTooLong(f"That message is {len(text):,} characters; the most she takes "
                             f"here is {limit:,}. Nothing was stored.",
                             "Send it in smaller parts.")
    if client_id is not None:
        earlier = await asyncio.to_thread(_stored_before, state, account, client_id)
        if earlier is not None:  # no model, no queue: it is all in the database
            for event in earlier:
                yield event
            return
    minds = state.ready_minds()
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Event | BaseException] = asyncio.Queue()
    cancelled = threading.Event()

    def put(item: Event | BaseException) -> None:
        loop.call_soon_threadsafe(events.put_nowait, item)

    def work() -> Finished:
        with minds.companion(account) as companion:
            return _take_turn(companion, text, client_id, cancelled, put)

    started = asyncio.Event()

    async def take_turn() -> None:
        """The model slot is held while the turn runs, not while a slow client reads it:
        what it has not read yet waits here (one reply at most), and others go on."""
        try:
            async with state.gate.turn(account.user_id):
                started.set()
                finished = await asyncio.shield(loop.run_in_executor(None, work))
            events.put_nowait(finished)  # after the slot is free: the next message is welcome
        except BaseException as exc:  # raised again below, in the consumer
            events.put_nowait(exc)

    turn = asyncio.create_task(take_turn())
    try:
        while True:
            item = await next_or_none(events, until)
            if item is None:
                raise ClientGone()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, Finished):
                return
    finally:
        if not started.is_set():
            turn.cancel()  # left while waiting: give the place up, nothing was stored
        cancelled.set()  # left while she spoke: stop generating, store what was said
        await turn


async def next_or_none(items: asyncio.Queue[T], until: Sequence[asyncio.Event]) -> T | None:
    """The next of ``items``, or None once one of ``until`` is set (whatever is left in
    ``items`` then stays there)."""
    if any(event.is_set() for event in until):
        return None
    if not until:
        return await items.get()
    getting = asyncio.ensure_future(items.get())
    stops = [asyncio.ensure_future(event.wait()) for event in until]
    try:
        await asyncio.wait([getting, *stops], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (getting, *stops):
            if not task.done():
                task.cancel()  # a cancelled get leaves its item in the queue
    return getting.result() if getting.done() and not getting.cancelled() else None


def _take_turn(companion: Companion, text: str, client_id: str | None,
               cancelled: threading.Event, put: Callable[[Event], None]) -> Finished:
    try:
        turn = companion.reply(text, client_id=client_id)
    except DuplicateError:  # stored since the check before the queue (another worker)
        earlier = repeat(companion.log, client_id) if client_id is not None else None
        if earlier is None:
            raise
        for event in earlier[:-1]:
            put(event)
        assert isinstance(earlier[-1], Finished)
        return earlier[-1]
    assert turn.said_id is not None  # reply() stores what was said before it returns
    put(Accepted(turn.said_id))
    try:
        for piece in turn:
            if cancelled.is_set():
                break
            put(Piece(piece))
    finally:
        turn.close()  # her reply is stored now, as far as it got, if it began
    return Finished(turn.reply_id, turn.status or "interrupted", turn.text)


def _stored_before(state: ServerState, account: Account, client_id: str) \
        -> list[Event] | None:
    with state.reading() as db:
        return repeat(ConversationLog(db, account.user_id), client_id)


def repeat(log: ConversationLog, client_id: str) -> list[Event] | None:
    """The turn a message sent again gets: its ``Accepted``, then her stored reply to it
    (whole, as one piece) or, if there is none (still being written on another
    connection, or lost in a crash), ``Finished`` with no id and the status
    "unanswered". None if ``client_id`` is new."""
    message = log.by_client_id(client_id)
    if message is None:
        return None
    reply = log.reply_to(message.id)
    if reply is None:
        return [Accepted(message.id, repeat=True), Finished(None, "unanswered", "")]
    pieces: list[Event] = [Piece(reply.content)] if reply.content else []
    return [Accepted(message.id, repeat=True), *pieces,
            Finished(reply.id, reply.status, reply.content)]
