"""What the browser shows of her beyond the conversation: her first-run setup (she chooses
her name with the model), her mood over time, how her self has grown, and each memory's
source, correction and search. Every route takes the account from the bearer token only."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Annotated

from fastapi import Body, FastAPI, Path, Query
from pydantic import BaseModel, Field

from os1.errors import InputError, ModelError
from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.memory.retrieval import recall, recall_text
from os1.memory.selfmodel import SelfHistory
from os1.memory.shared_self import SHARED_SELF
from os1.mind.mood import Appraisal, MoodKeeper, MoodState, _decayed
from os1.mind.setup import SetupScript, validate_answers
from os1.server.app import Me
from os1.server.person import _reading
from os1.server.schemas import MemoryOut, MessageOut
from os1.storage.db import Database
from os1.storage.setups import SetupStore

if TYPE_CHECKING:
    from os1.server.app import ServerState


MemoryId = Annotated[int, Path(ge=1, le=2**62)]


class SetupQuestion(BaseModel):
    key: str
    ask: str
    label: str


class SetupOut(BaseModel):
    done: bool
    user_name: str
    companion_name: str
    name_reason: str
    voice: str
    welcome: str
    thank_you: str
    questions: list[SetupQuestion]
    voice_question: str
    voices: list[str]
    default_voice: str


class SetupIn(BaseModel):
    answers: dict[str, Annotated[str, Field(max_length=500)]] = Field(max_length=20)
    voice: str = Field("female", max_length=20)


class MoodPoint(BaseModel):
    at: float
    valence: float
    arousal: float
    feeling: str
    cause: str


class SelfVersionOut(BaseModel):
    version: int
    created_at: float
    traits: list[str]
    interests: list[str]
    opinions: list[str]
    wants: list[str]
    reason: str
    changes: list[str]


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


def herself_routes(app: FastAPI, state: ServerState) -> None:
    _setup_routes(app, state)
    _growth_routes(app, state)
    _memory_routes(app, state)


def _setup_out(script: SetupScript, db: Database, user_id: str) -> SetupOut:
    record = SetupStore(db, user_id).current()
    return SetupOut(
        done=record is not None, user_name=record.user_name if record else "",
        companion_name=record.companion_name if record else "",
        name_reason=record.name_reason if record else "",
        voice=record.voice if record else "",
        welcome=script.welcome, thank_you=script.thank_you,
        questions=[SetupQuestion(key=q.key, ask=q.ask, label=q.label)
                   for q in script.questions],
        voice_question=script.voice_question, voices=list(script.voices),
        default_voice=script.default_voice)


def _setup_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/api/setup", response_model=SetupOut, tags=["her"])
    def setup(account: Me) -> SetupOut:
        """Whether she has been set up for you yet, her name if so, and the questions."""
        with _reading(state) as db:
            return _setup_out(SetupScript.load(), db, account.user_id)

    @app.post("/api/setup", response_model=SetupOut, tags=["her"])
    async def set_up(account: Me, body: SetupIn) -> SetupOut:
        """The first-run setup: your answers and a voice; then she chooses her own name
        (the model thinks: this takes a while). Only once per account."""
        script = SetupScript.load()
        answers = validate_answers(script, dict(body.answers), body.voice)
        with _reading(state) as db:
            if SetupStore(db, account.user_id).current() is not None:
                raise InputError("She has been set up for you already.",
                                 "GET /api/setup says who she is.")
        minds = state.ready_minds()
        loop = asyncio.get_running_loop()
        async with state.gate.turn(account.user_id):
            try:
                await loop.run_in_executor(None, minds.set_up, account, script, answers)
            except ModelError as error:  # nothing was saved: the page asks again
                raise InputError(str(error), "Try again: she chooses afresh each time.") \
                    from error
        with _reading(state) as db:
            return _setup_out(script, db, account.user_id)


def _growth_routes(app: FastAPI, state: ServerState) -> None:
    @app.get("/api/mood/history", response_model=list[MoodPoint], tags=["you"])
    def mood_history(account: Me, limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                     ) -> list[MoodPoint]:
        """Her mood with you after each message that moved her, oldest first, ending now."""
        with _reading(state) as db:
            keeper = MoodKeeper(db, account.user_id, time.time)
            return mood_trajectory(keeper, limit, time.time())

    @app.get("/api/self/history", response_model=list[SelfVersionOut], tags=["you"])
    def self_history(account: Me) -> list[SelfVersionOut]:
        """Every version of her self, oldest first, each with what changed and why."""
        with _reading(state) as db:
            versions = SelfHistory(db, SHARED_SELF, time.time).history()
        out, before = [], None
        for v in versions:
            m = v.model
            out.append(SelfVersionOut(
                version=v.id, created_at=v.created_at, traits=list(m.traits),
                interests=list(m.interests), opinions=list(m.opinions), wants=list(m.wants),
                reason=v.reason, changes=[] if before is None else m.changes_from(before)))
            before = m
        return out


def mood_trajectory(keeper: MoodKeeper, limit: int, now: float) -> list[MoodPoint]:
    """Her mood replayed from the recorded appraisals, as ``MoodKeeper.feel`` moved it:
    each point the state right after a message, and a last point for now."""
    cfg = keeper.config
    valence, arousal, last = cfg.baseline_valence, cfg.baseline_arousal, None
    points: list[MoodPoint] = []
    for event in reversed(keeper.events(limit)):
        if last is not None:
            elapsed = max(0.0, event.at - last)
            valence = _decayed(valence, cfg.baseline_valence, elapsed, cfg.valence_half_life_s)
            arousal = _decayed(arousal, cfg.baseline_arousal, elapsed, cfg.arousal_half_life_s)
        valence, arousal = keeper._moved(
            MoodState(valence, arousal, event.at),
            Appraisal(event.valence, event.arousal, event.hurtful, event.cause))
        last = event.at
        points.append(MoodPoint(at=event.at, valence=valence, arousal=arousal,
                                feeling=MoodState(valence, arousal, event.at).feeling,
                                cause=event.cause))
    current = keeper.current(now)
    points.append(MoodPoint(at=now, valence=current.valence, arousal=current.arousal,
                            feeling=current.feeling, cause="now"))
    return points


def _memory_routes(app: FastAPI, state: ServerState) -> None:
    def store_for(db: Database, user_id: str) -> tuple[MemoryStore, bool]:
        embedder = state.minds.embedder if state.minds is not None else None
        return MemoryStore(db, user_id, embedder or HashEmbedder()), embedder is not None

    def out(memory: object) -> MemoryOut:
        return MemoryOut.model_validate(memory, from_attributes=True)

    @app.patch("/api/memories/{memory_id}", response_model=MemoryOut, tags=["you"])
    def edit_memory(account: Me, memory_id: MemoryId, body: MemoryEdit) -> MemoryOut:
        """Correct a memory: the corrected version replaces it (the old one stays in its
        history); returns the new version, with a new id."""
        with _reading(state) as db:
            store, _ = store_for(db, account.user_id)
            return out(store.edit(memory_id, body.content))

    @app.get("/api/memories/{memory_id}/sources", response_model=MemorySources,
             tags=["you"])
    def memory_sources(account: Me, memory_id: MemoryId) -> MemorySources:
        """Where a memory came from: your messages it was taken from, the memories it was
        concluded from, and its earlier versions."""
        with _reading(state) as db:
            store, _ = store_for(db, account.user_id)
            memory = store.get(memory_id)
            derived = store.get_many(store.sources_of(memory_id))
            versions = store.history(memory_id)
            ids = list(memory.sources)
            rows = db.execute(
                "SELECT id, role, content, status, created_at FROM messages WHERE user_id = ?"
                f" AND id IN ({','.join('?' * len(ids))}) ORDER BY id",
                (account.user_id, *ids)).fetchall() if ids else []
        return MemorySources(
            memory=out(memory),
            messages=[MessageOut(id=int(r[0]), role=r[1], content=str(r[2]),
                                 status=str(r[3]), created_at=float(r[4])) for r in rows],
            derived_from=[out(m) for m in derived], versions=[out(m) for m in versions])

    @app.post("/api/memories/search", response_model=list[MemoryOut], tags=["you"])
    def search_memories(account: Me, body: Annotated[MemorySearch, Body()]
                        ) -> list[MemoryOut]:
        """What she would recall for ``query`` (in the body, so it never sits in a URL)."""
        with _reading(state) as db:
            store, by_meaning = store_for(db, account.user_id)
            if not body.query.strip():
                return [out(m) for m in store.active(body.limit)]
            search = recall if by_meaning else recall_text
            return [out(s.memory) for s in search(store, body.query, k=body.limit)]
