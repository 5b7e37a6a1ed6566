"""Her memory for everyone on the server: one background thread writes memories for
whoever has new messages, off every reply's path.

After each reply the person is queued (once, however often they write); at start,
everyone with messages not yet remembered is queued, so nothing said before a crash or a
restart is left out. For each person the thread runs the same resumable ``catch_up`` as
``os1 chat``'s worker (moments, extraction, reflection when due), yielding the model to
replies through the shared ``IdleGate``. The worker model is opened once and shared.

Several workers on one PostgreSQL database each run such a thread; a lease in
``memory_claims`` (``claim``/``release``) keeps two of them off the same person.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from os1.errors import OS1Error
from os1.llm.base import Model
from os1.memory.embeddings import Embedder
from os1.memory.ingest import Names
from os1.memory.worker import IdleGate, MemoryWorker
from os1.mind.memory_session import names_of
from os1.storage.db import Database
from os1.storage.memory_claims import claim, people_behind, release

log = logging.getLogger(__name__)

# How long a worker's claim on a person's memories lasts (longer than any catch-up), and
# how soon a worker that found someone else's claim looks again.
CLAIM_S = 1800.0
CLAIM_RETRY_S = 5.0


class ServerMemory:
    def __init__(self, storage: Path | str, embedder: Embedder, open_model: Callable[[], Model],
                 quiet_s: float = 2.0) -> None:
        self.storage = storage
        self.embedder = embedder
        self.gate = IdleGate()
        self.quiet_s = quiet_s
        self._open_model = open_model
        self._model: Model | None = None
        self._queue: list[str] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.busy_with: str | None = None
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def start(self) -> None:
        db = Database.open(self.storage)
        try:
            pending = people_behind(db)
        finally:
            db.close()
        for user_id in pending:
            self.wake(user_id)
        self._thread = threading.Thread(target=self._loop, name="os1-server-memory",
                                        daemon=True)
        self._thread.start()

    def wake(self, user_id: str) -> None:
        with self._cond:
            if user_id not in self._queue:
                self._queue.append(user_id)
            self._cond.notify()

    def forget(self, user_id: str, timeout: float = 60.0) -> None:
        """Forget-me: their pending work dropped, and work under way for them finished
        before their rows go (it would write them back). Nothing queues them again: their
        tokens are revoked and the caller holds their turn. (Not a set of the forgotten:
        SQLite may give a new account the same number.)"""
        with self._cond:
            if user_id in self._queue:
                self._queue.remove(user_id)
            if not self._cond.wait_for(lambda: self.busy_with != user_id, timeout):
                raise OS1Error("Her memory is still at work on your conversation, so "
                               "nothing was deleted.", "Log in and try again in a minute.")

    def idle(self) -> bool:
        with self._cond:
            return not self._queue and self.busy_with is None

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._model is not None:
            self._model.close()
            self._model = None

    def _shared_model(self) -> Model:
        if self._model is None:
            self._model = self._open_model()
        return self._model

    def _next(self) -> str | None:
        with self._cond:
            self._cond.wait_for(lambda: bool(self._queue) or self._stop.is_set())
            if self._stop.is_set():
                return None
            self.busy_with = self._queue.pop(0)
            return self.busy_with

    def _loop(self) -> None:
        db = Database.open(self.storage)
        try:
            while (user_id := self._next()) is not None:
                try:
                    self._remember(db, user_id)
                    self.last_error = None
                except (OS1Error, OSError, RuntimeError, ValueError) as exc:
                    self.last_error = str(exc)  # the work stays pending for next time
                    log.warning("server memory (%s): %s", user_id, exc)
                finally:
                    with self._cond:
                        self.busy_with = None
                        self._cond.notify_all()  # a forget may be waiting for this
        finally:
            db.close()

    def _remember(self, db: Database, user_id: str) -> None:
        """Catch up on one person, unless another worker sharing the database is at it:
        then look again in a moment, so what was said meanwhile is not left out."""
        if not claim(db, user_id, self.holder, time.time() + CLAIM_S):
            retry = threading.Timer(CLAIM_RETRY_S, self.wake, (user_id,))
            retry.daemon = True
            retry.start()
            return
        try:
            MemoryWorker(self.storage, user_id, self.embedder, self._shared_model,
                         partial(_names, user_id), self.gate, self.quiet_s,
                         stop=self._stop, shared_self=True).catch_up(db)
        finally:
            release(db, user_id, self.holder)


def _names(user_id: str, db: Database) -> Names:
    return names_of(db, user_id)
