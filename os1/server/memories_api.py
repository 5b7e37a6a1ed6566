"""Her memories of a person, as they may see and change them: the newest or the best
matches, a search that keeps the query out of URLs, where each memory came from, a
correction, and forgetting one. Only ever the token's person's memories."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from pydantic import BaseModel, Field

from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.memory.records import Memory
from os1.memory.retrieval import recall, recall_text
from os1.server.dependencies import Me, Reading, State
from os1.server.schemas import ForgottenOut, MemoryOut, MessageOut
from os1.storage.conversations import ConversationLog

router = APIRouter(tags=["you"])

MemoryId = Annotated[int, Path(ge=1, le=2**62)]


class MemoryEdit(BaseModel):
    content: str = Field(min_length=1, max_length=2000)


class MemorySearch(BaseModel):
    query: str = Field(max_length=2000)
    limit: int = Field(20, ge=1, le=200)


class MemorySources(BaseModel):
    memory: MemoryOut
    messages: list[MessageOut]
    derived_from: list[MemoryOut]
    versions: list[MemoryOut]


@dataclass(frozen=True)
class PersonMemories:
    """One person's memory store, and whether it can search by meaning (the embedder
    loads with the model; until then, or without it, only words are matched)."""

    store: MemoryStore
    by_meaning: bool

    def find(self, query: str, limit: int) -> list[Memory]:
        """The best matches for ``query``; the newest without one."""
        if not query.strip():
            return self.store.active(limit)
        search = recall if self.by_meaning else recall_text
        return [s.memory for s in search(self.store, query, k=limit)]


def person_memories(account: Me, db: Reading, state: State) -> PersonMemories:
    embedder = state.minds.embedder if state.minds is not None else None
    return PersonMemories(MemoryStore(db, account.user_id, embedder or HashEmbedder()),
                          embedder is not None)


Memories = Annotated[PersonMemories, Depends(person_memories)]


def out(memory: Memory) -> MemoryOut:
    return MemoryOut.model_validate(memory, from_attributes=True)


@router.get("/api/memories", response_model=list[MemoryOut])
def list_memories(memories: Memories, query: Annotated[str, Query(max_length=2000)] = "",
                  limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[MemoryOut]:
    """What she remembers of you: the newest, or with ``query`` the best matches."""
    return [out(m) for m in memories.find(query, limit)]


@router.post("/api/memories/search", response_model=list[MemoryOut])
def search_memories(memories: Memories, body: Annotated[MemorySearch, Body()]
                    ) -> list[MemoryOut]:
    """What she would recall for ``query`` (in the body, so it never sits in a URL)."""
    return [out(m) for m in memories.find(body.query, body.limit)]


@router.delete("/api/memories/{memory_id}", response_model=ForgottenOut)
def forget_memory(memories: Memories, memory_id: MemoryId) -> ForgottenOut:
    """Forget a memory, its earlier versions and what she concluded from it."""
    return ForgottenOut(forgotten=memories.store.forget(memory_id))


@router.patch("/api/memories/{memory_id}", response_model=MemoryOut)
def edit_memory(memories: Memories, memory_id: MemoryId, body: MemoryEdit) -> MemoryOut:
    """Correct a memory: the corrected version replaces it (the old one stays in its
    history); returns the new version, with a new id."""
    return out(memories.store.edit(memory_id, body.content))


@router.get("/api/memories/{memory_id}/sources", response_model=MemorySources)
def memory_sources(account: Me, db: Reading, memories: Memories, memory_id: MemoryId,
                   ) -> MemorySources:
    """Where a memory came from: your messages it was taken from, the memories it was
    concluded from, and its earlier versions."""
    store = memories.store
    memory = store.get(memory_id)
    said = ConversationLog(db, account.user_id).by_ids(memory.sources)
    return MemorySources(
        memory=out(memory),
        messages=[MessageOut(id=m.id, role=m.role, content=m.content, status=m.status,
                             created_at=m.created_at) for m in said],
        derived_from=[out(m) for m in store.get_many(store.sources_of(memory_id))],
        versions=[out(m) for m in store.history(memory_id)])
