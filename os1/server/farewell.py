"""Going to sleep without cutting anyone off mid-sentence.

Found by attack (issue 25): on SIGTERM uvicorn closed every WebSocket at once (code 1012),
so a reply being written was cut short and stored "interrupted", though the process had
half a minute left to finish it. Now, first (``say_goodbye``, called by ``serving.py``
before uvicorn's own shutdown):

1. she is "shutting_down": a new turn gets 503 (or the error frame ``unavailable``), and
   every turn still waiting for the model is sent away the same way (nothing of theirs
   was stored yet, so they lose nothing and can go to another worker);
2. the replies under way finish and are stored whole, for up to ``grace_s``;
3. every open conversation is closed with 1001 (going away), so clients reconnect
   knowing nothing was cut. A reply still running at the end of the grace period is cut
   by that close and stored as far as it got, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from starlette.websockets import WebSocket

if TYPE_CHECKING:
    from os1.server.server_state import ServerState

GOING_AWAY = 1001
CLOSING_S = 5.0  # how long the clients get to answer the close, all at once
POLL_S = 0.05


class Farewell:
    """The open WebSockets, and how many turns each has under way."""

    def __init__(self, grace_s: float) -> None:
        self.grace_s = grace_s
        self._open: dict[WebSocket, int] = {}

    @contextlib.contextmanager
    def connection(self, ws: WebSocket) -> Iterator[None]:
        self._open[ws] = 0
        try:
            yield
        finally:
            self._open.pop(ws, None)

    @contextlib.contextmanager
    def turn(self, ws: WebSocket) -> Iterator[None]:
        """A turn under way on ``ws``: from the message that asked for it to its last
        frame sent."""
        self._open[ws] = self._open.get(ws, 0) + 1
        try:
            yield
        finally:
            if ws in self._open:
                self._open[ws] -= 1

    def turns_under_way(self) -> int:
        return sum(self._open.values())

    def connections(self) -> int:
        return len(self._open)

    async def close_all(self) -> None:
        """Close every open WebSocket with 1001, all at once: one client slow to answer
        the close must not hold up the rest."""

        async def close(ws: WebSocket) -> None:
            with contextlib.suppress(Exception):  # already closed, or its client gone
                await ws.close(GOING_AWAY, "The server is restarting; connect again.")

        waiting = [asyncio.ensure_future(close(ws)) for ws in list(self._open)]
        if waiting:
            await asyncio.wait(waiting, timeout=CLOSING_S)


async def say_goodbye(state: ServerState) -> None:
    """Steps 1 to 3 above."""
    state.phase = "shutting_down"
    state.gate.refuse_waiting(state.unavailable())
    farewell = state.farewell
    deadline = time.monotonic() + farewell.grace_s
    while (farewell.turns_under_way() or state.gate.status().running) \
            and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
    await farewell.close_all()
    closed_by = time.monotonic() + CLOSING_S
    while farewell.connections() and time.monotonic() < closed_by:
        await asyncio.sleep(POLL_S)  # their handlers hear the close and end
