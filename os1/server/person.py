"""What a person can see and change of their own relationship with her: their history,
her mood toward them, her self as it has grown with them, and her memories of them.
Each request reads through a connection of its own (the turn threads have theirs)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

from fastapi import FastAPI, Path, Query

from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.memory.retrieval import recall, recall_text
from os1.memory.selfmodel import SelfHistory
from os1.memory.shared_self import SHARED_SELF
from os1.mind.mood import MoodKeeper
from os1.server.accounts import Account
from os1.server.app import Me
from os1.server.schemas import ForgottenOut, MemoryOut, MessageOut, MoodOut, SelfOut
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database

if TYPE_CHECKING:
    from os1.server.app import ServerState


def person_routes(app: FastAPI, state: ServerState) -> None:
    _relationship_routes(app, state)
    _memory_routes(app, state)


@contextmanager
def _reading(state: ServerState) -> Iterator[Database]:
    db = Database.open(state.settings.storage, migrate=False)
    try:
        yield db
    finally:
        db.close()


def _relationship_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/api/history", response_model=list[MessageOut], tags=["you"])
    def history(account: Me,
                limit: Annotated[int, Query(ge=1, le=500)] = 50,
                before: Annotated[int | None, Query(ge=1, le=2**62)] = None,
                ) -> list[MessageOut]:
        """Your conversation with her, oldest first; ``before`` pages back."""
        with _reading(state) as db:
            log = ConversationLog(db, account.user_id)
            messages = log.before(before, limit) if before else log.recent(limit)
        return [MessageOut(id=m.id, role=m.role, content=m.content, status=m.status,
                           created_at=m.created_at, client_id=m.client_id)
                for m in messages]

    @app.get("/api/mood", response_model=MoodOut, tags=["you"])
    def mood(account: Me) -> MoodOut:
        """How she feels toward you now."""
        with _reading(state) as db:
            now = MoodKeeper(db, account.user_id, time.time).current()
        return MoodOut(feeling=now.feeling, valence=now.valence, arousal=now.arousal,
                       hurt=now.hurt)

    @app.get("/api/self", response_model=SelfOut, tags=["you"])
    def self_model(account: Me) -> SelfOut:
        """Who she is these days: one self, grown through everyone she talks with, with no
        one's words in it."""
        with _reading(state) as db:
            version = SelfHistory(db, SHARED_SELF, time.time).current()
        model = version.model
        return SelfOut(version=version.id, traits=list(model.traits),
                       interests=list(model.interests), opinions=list(model.opinions),
                       wants=list(model.wants), reason=version.reason)


def _memory_routes(app: FastAPI, state: ServerState) -> None:
    @contextmanager
    def memories(account: Account) -> Iterator[tuple[MemoryStore, bool]]:
        """This person's memory store, and whether it can search by meaning (the
        embedder loads with the model; without it only words are matched)."""
        embedder = state.minds.embedder if state.minds is not None else None
        with _reading(state) as db:
            yield MemoryStore(db, account.user_id, embedder or HashEmbedder()), \
                embedder is not None

    @app.get("/api/memories", response_model=list[MemoryOut], tags=["you"])
    def list_memories(account: Me, query: Annotated[str, Query(max_length=2000)] = "",
                      limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[MemoryOut]:
        """What she remembers of you: the newest, or with ``query`` the best matches."""
        with memories(account) as (store, by_meaning):
            if not query.strip():
                found = store.active(limit)
            else:
                search = recall if by_meaning else recall_text
                found = [s.memory for s in search(store, query, k=limit)]
        return [MemoryOut.model_validate(m, from_attributes=True) for m in found]

    @app.delete("/api/memories/{memory_id}", response_model=ForgottenOut, tags=["you"])
    def forget_memory(account: Me, memory_id: Annotated[int, Path(ge=1, le=2**62)],
                      ) -> ForgottenOut:
        """Forget a memory, its earlier versions and what she concluded from it."""
        with memories(account) as (store, _):
            return ForgottenOut(forgotten=store.forget(memory_id))

