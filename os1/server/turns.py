"""One person's turn, run in a worker thread and streamed to async code.

The companion and the model are synchronous, so the turn runs in its own thread (inside
the person's place in ``TurnGate``) and hands each piece to the event loop. Leaving the
iteration early (the client went away) gives up a place still waiting, and stops a turn
already generating at its next piece; it is stored as interrupted, as far as it got.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from os1.errors import MessageTooLong
from os1.mind.companion import Companion
from os1.server.accounts import Account

if TYPE_CHECKING:
    from os1.server.app import ServerState


@dataclass(frozen=True)
class Accepted:
    """What the person said is stored (durably): from here on it is never lost."""

    message_id: int


@dataclass(frozen=True)
class Piece:
    text: str


@dataclass(frozen=True)
class Finished:
    message_id: int | None
    status: str
    text: str


Event = Accepted | Piece | Finished


async def run_turn(state: ServerState, account: Account, text: str) -> AsyncGenerator[Event, None]:
    limit = int(state.limits["max_message_chars"])
    if len(text) > limit:
        raise MessageTooLong(f"That message is {len(text):,} characters; the most she takes "
                             f"here is {limit:,}. Nothing was stored.",
                             "Send it in smaller parts.")
    minds = state.ready_minds()
    loop = asyncio.get_running_loop()
    events: asyncio.Queue[Event | BaseException] = asyncio.Queue()
    cancelled = threading.Event()

    def put(item: Event | BaseException) -> None:
        loop.call_soon_threadsafe(events.put_nowait, item)

    def work() -> Finished:
        with minds.companion(account) as companion:
            return _take_turn(companion, text, cancelled, put)

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
            item = await events.get()
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


def _take_turn(companion: Companion, text: str, cancelled: threading.Event,
               put: Callable[[Event], None]) -> Finished:
    turn = companion.reply(text)
    said = companion.log.last()
    put(Accepted(said.id if said else 0))
    try:
        for piece in turn:
            if cancelled.is_set():
                break
            put(Piece(piece))
    finally:
        turn.close()
    reply = companion.log.last()
    return Finished(reply.id if reply and reply.role == "assistant" else None,
                    turn.status or "interrupted", turn.text)
