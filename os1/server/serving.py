"""Running the app under uvicorn so that a stop (SIGTERM, Ctrl-C) says goodbye first.

uvicorn's own graceful shutdown closes every WebSocket at once with 1012 and only then
waits for what is left (HTTP responses), so a reply being written over a WebSocket was cut
off mid-sentence (issue 25). Here the first SIGTERM or SIGINT starts ``say_goodbye``
(``farewell.py``: new turns refused, those under way finished, conversations closed with
1001) while uvicorn goes on serving; uvicorn's shutdown follows when it is done. A second
signal stops at once, uvicorn's way; a third Ctrl-C forces it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from types import FrameType

import uvicorn
from fastapi import FastAPI

from os1.server.farewell import say_goodbye

log = logging.getLogger(__name__)

AFTER_GOODBYE_S = 10  # what uvicorn then waits for (HTTP responses still being sent)


class GentleServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config,
                 goodbye: Callable[[], Coroutine[object, object, None]]) -> None:
        super().__init__(config)
        self._goodbye = goodbye
        self._asked: int | None = None  # the signal that asked for the stop
        self._leaving: asyncio.Task[None] | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        """A signal handler: it may not wait, so it only takes note (on_tick acts)."""
        if self._asked is None and self.started and not self.should_exit:
            self._asked = sig
            return
        super().handle_exit(sig, frame)

    async def on_tick(self, counter: int) -> bool:
        if self._asked is not None and self._leaving is None:
            print("os1 serve is stopping: the replies under way finish first (a second "
                  "Ctrl-C or SIGTERM stops at once).", file=sys.stderr, flush=True)
            self._leaving = asyncio.create_task(self._goodbye())
        if self._leaving is not None and self._leaving.done() and not self.should_exit:
            if not self._leaving.cancelled() and self._leaving.exception() is not None:
                log.error("Saying goodbye failed: %r", self._leaving.exception())
            assert self._asked is not None
            super().handle_exit(self._asked, None)  # uvicorn's shutdown, and the signal
        return await super().on_tick(counter)


def serve(app: FastAPI, host: str, port: int, ws_max_size: int) -> None:
    """Serve ``create_app``'s app until a signal, then stop as described above."""
    config = uvicorn.Config(app, host=host, port=port, ws_max_size=ws_max_size,
                            log_level="warning", timeout_graceful_shutdown=AFTER_GOODBYE_S)
    state = app.state.os1
    GentleServer(config, lambda: say_goodbye(state)).run()
