"""The background worker that writes her memories, off the reply's critical path.

Why a thread with its own database connection and its own model instance: extraction
takes seconds per exchange on a CPU, and sharing the chat model would throw away the
conversation llama.cpp has evaluated (every next reply would re-read it). Two cores can't
run both at full speed, so the worker yields: it starts a model call only when no reply
has been generating for ``quiet_s``, and abandons the call (to redo it later) the moment
a reply starts. Every step is resumable from the database (``ingest.py``), so quitting
or crashing mid-way loses nothing: unprocessed messages are picked up next time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from os1.errors import OS1Error
from os1.llm.base import ForwardingModel, GenerateOptions, Message, Model
from os1.memory.embeddings import Embedder
from os1.memory.ingest import Names, extract_exchange, next_exchange, remember_moments
from os1.memory.memories import MemoryStore
from os1.memory.reflect import MIN_MEMORIES, due, reflect, unreflected
from os1.memory.selfmodel import SelfHistory
from os1.memory.shared_self import SharedSelf
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database

log = logging.getLogger(__name__)


class Preempted(Exception):
    """A reply started; the worker's model call was abandoned and will be redone."""


class IdleGate:
    """Tells the worker when she is talking. ``busy()`` wraps each reply."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._last_busy = 0.0
        self.changed = threading.Event()

    @contextmanager
    def busy(self) -> Iterator[None]:
        with self._lock:
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                self._last_busy = time.monotonic()
            self.changed.set()

    @property
    def is_busy(self) -> bool:
        return self._active > 0

    def quiet_for(self) -> float:
        """Seconds since the last reply ended (0 while one is running)."""
        with self._lock:
            return 0.0 if self._active else time.monotonic() - self._last_busy

    def wait_quiet(self, quiet_s: float, stop: threading.Event) -> bool:
        """Block until no reply has run for ``quiet_s``; False if ``stop`` was set."""
        while not stop.is_set():
            left = quiet_s - self.quiet_for()
            if left <= 0 and not self.is_busy:
                return True
            stop.wait(max(0.05, min(left, 0.5)))
        return False


class PreemptibleModel(ForwardingModel):
    """The worker's model: raises ``Preempted`` between tokens once a reply starts."""

    def __init__(self, model: Model, gate: IdleGate) -> None:
        super().__init__(model)
        self.gate = gate

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        stream = self.model.stream_chat(messages, options)
        try:
            for piece in stream:
                if self.gate.is_busy:
                    raise Preempted
                yield piece
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()


@dataclass
class Progress:
    moments: int = 0
    exchanges: int = 0
    memories: int = 0
    insights: int = 0
    self_changed: bool = False


class MemoryWorker:
    """Runs ``catch_up`` in a daemon thread whenever it is woken (after each reply)."""

    def __init__(self, storage: Path | str, user_id: str, embedder: Embedder,
                 open_model: Callable[[], Model], names: Callable[[Database], Names],
                 gate: IdleGate | None = None, quiet_s: float = 2.0,
                 stop: threading.Event | None = None, shared_self: bool = False) -> None:
        """``stop``: an event shared with an owner that runs ``catch_up`` itself (the
        server's worker, for many people), so its shutdown stops this one too.
        ``shared_self``: reflection grows her one self on a server (``SharedSelf``)
        instead of this person's own."""
        self._storage = storage
        self._user_id = user_id
        self._embedder = embedder
        self._open_model = open_model
        self._names = names
        self._shared_self = shared_self
        self.gate = gate or IdleGate()
        self.quiet_s = quiet_s
        self._model: Model | None = None
        self._stop = stop or threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.idle = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="os1-memory", daemon=True)
        self._thread.start()
        self.wake()

    def wake(self) -> None:
        self.idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop soon: a model call in flight is abandoned at its next token."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._model is not None:
            self._model.close()
            self._model = None

    def catch_up(self, db: Database, *, use_model: bool = True, reflect_at_end: bool = False,
                 on_step: Callable[[Progress, int], None] | None = None) -> Progress:
        """Do everything pending: moments, then (``use_model``) extraction exchange by
        exchange (each waits for quiet) and reflection if due. ``on_step`` gets the
        progress and how many messages are still waiting for extraction."""
        names = self._names(db)
        store = MemoryStore(db, self._user_id, self._embedder)
        conversation = ConversationLog(db, self._user_id)
        done = Progress(moments=remember_moments(store, conversation, names))
        while use_model and (exchange := next_exchange(store, conversation)) is not None:
            if not self.gate.wait_quiet(self.quiet_s, self._stop):
                return done
            try:
                done.memories += extract_exchange(store, conversation, self._worker_model(),
                                                  exchange, names)
            except Preempted:
                continue
            done.exchanges += 1
            if on_step is not None:
                on_step(done, len(conversation.after(store.processed_up_to(), 10_000)))
        if use_model:
            self._maybe_reflect(db, store, names, done, reflect_at_end)
        return done

    def _maybe_reflect(self, db: Database, store: MemoryStore, names: Names,
                       done: Progress, at_end: bool) -> None:
        if not (due(store) or (at_end and len(unreflected(store)) >= MIN_MEMORIES)):
            return
        while self.gate.wait_quiet(self.quiet_s, self._stop):
            try:
                result = reflect(store, self._selves(db, store, names), self._worker_model(),
                                 names)
            except Preempted:
                continue
            done.insights += len(result.insights)
            done.self_changed = result.self_version is not None
            return

    def _selves(self, db: Database, store: MemoryStore, names: Names) -> SelfHistory:
        if not self._shared_self:
            return SelfHistory(db, self._user_id)
        return SharedSelf(db, lambda: [names.user, *(m.content for m in store.active())])

    def _worker_model(self) -> PreemptibleModel:
        if self._model is None:
            self._model = self._open_model()
        return PreemptibleModel(self._model, self.gate)

    def _loop(self) -> None:
        db = Database.open(self._storage)
        try:
            # A conversation that ended last time is reflected upon at the start of this one.
            first = True
            while not self._stop.is_set():
                self._wake.wait()
                self._wake.clear()
                if self._stop.is_set():
                    break
                self._run_safely(db, reflect_at_end=first)
                first = False
                if not self._wake.is_set():
                    self.idle.set()
        finally:
            db.close()

    def _run_safely(self, db: Database, reflect_at_end: bool) -> None:
        try:
            self.catch_up(db, reflect_at_end=reflect_at_end)
            self.last_error = None
        except (OS1Error, OSError, RuntimeError, ValueError) as exc:
            # Memory must never take the conversation down; the work stays pending.
            self.last_error = str(exc)
            log.warning("memory worker: %s", exc)
