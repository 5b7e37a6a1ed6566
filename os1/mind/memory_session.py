"""Her long-term memory for one running session: the recollection the companion reads
from and the background worker that writes to it, wired to the same database file."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from os1.config import Settings
from os1.llm.base import Model
from os1.memory.embedders import open_embedder
from os1.memory.embeddings import Embedder
from os1.memory.ingest import Names
from os1.memory.worker import IdleGate, MemoryWorker
from os1.mind.recollection import Recollection
from os1.storage.db import Database
from os1.storage.setups import SetupStore


@dataclass
class MemorySession:
    recollection: Recollection
    worker: MemoryWorker

    def close(self) -> None:
        self.worker.stop()


def worker_model_opener(settings: Settings, chat_model: Model) -> Callable[[], Model]:
    """A second llama.cpp instance over the same file for the worker (its weights are
    memory-mapped, so shared; only its context is new). A server backend serves both."""
    from os1.llm.fake import FakeModel
    from os1.llm.llama import LlamaModel

    if isinstance(chat_model, LlamaModel):
        path = chat_model.path
        return lambda: LlamaModel(path, settings.context_size, settings.threads)
    if isinstance(chat_model, FakeModel):
        # Its own fake: the worker must not play the chat's scripted replies.
        return lambda: FakeModel(context_size=chat_model.context_size)
    return lambda: chat_model


def names_of(db: Database, user: str) -> Names:
    setup = SetupStore(db, user).current()
    if setup is None:
        return Names("the user", "I")
    return Names(setup.user_name, setup.companion_name)


def open_memory(settings: Settings, db: Database, chat_model: Model,
                embedder: Embedder | None = None, clock: Callable[[], float] | None = None,
                ) -> MemorySession:
    embedder = embedder or open_embedder(settings.embedder, settings.cache_dir)
    recollection = Recollection(db, settings.user, embedder, clock or time.time)
    worker = MemoryWorker(settings.storage, settings.user, embedder,
                          worker_model_opener(settings, chat_model),
                          lambda own_db: names_of(own_db, settings.user), IdleGate())
    return MemorySession(recollection, worker)
