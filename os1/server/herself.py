"""Her, as a person sees her: whether she is awake (``/api/status``), her first-run
setup in the browser (she chooses her name with the model), her mood toward them now and
over time, and her self as it has grown. Every route but the status takes the account
from the bearer token only."""

from __future__ import annotations

import asyncio
import time
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from os1.errors import InputError, ModelError
from os1.memory.selfmodel import SelfHistory
from os1.memory.shared_self import SHARED_SELF
from os1.mind.mood import MoodKeeper
from os1.mind.mood_history import mood_trajectory
from os1.mind.setup import SetupScript, validate_answers
from os1.server.dependencies import Me, Reading, State
from os1.server.schemas import MoodOut, SelfOut, StatusOut
from os1.storage.db import Database
from os1.storage.setups import SetupStore

router = APIRouter()


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


@router.get("/api/status", response_model=StatusOut, tags=["status"])
def status(state: State) -> StatusOut:
    gate = state.gate.status()
    available = state.phase == "ready" and not state.gate.full()
    detail = {"loading": "The model is loading.", "failed": state.problem,
              "shutting_down": "The server is shutting down.",
              "ready": "Ready." if available else "Busy: the queue is full."}[state.phase]
    return StatusOut(state=state.phase, available=available, detail=detail,
                     running=gate.running, waiting=gate.waiting,
                     max_waiting=gate.max_waiting,
                     retry_after_s=0 if available else state.gate.retry_after())


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


@router.get("/api/setup", response_model=SetupOut, tags=["her"])
def setup(account: Me, db: Reading) -> SetupOut:
    """Whether she has been set up for you yet, her name if so, and the questions."""
    return _setup_out(SetupScript.load(), db, account.user_id)


@router.post("/api/setup", response_model=SetupOut, tags=["her"])
async def set_up(account: Me, body: SetupIn, state: State) -> SetupOut:
    """The first-run setup: your answers and a voice; then she chooses her own name
    (the model thinks: this takes a while). Only once per account."""
    script = SetupScript.load()
    answers = validate_answers(script, dict(body.answers), body.voice)
    with state.reading() as db:
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
    with state.reading() as db:
        return _setup_out(script, db, account.user_id)


@router.get("/api/mood", response_model=MoodOut, tags=["you"])
def mood(account: Me, db: Reading) -> MoodOut:
    """How she feels toward you now."""
    now = MoodKeeper(db, account.user_id, time.time).current()
    return MoodOut(feeling=now.feeling, valence=now.valence, arousal=now.arousal,
                   hurt=now.hurt)


@router.get("/api/mood/history", response_model=list[MoodPoint], tags=["you"])
def mood_history(account: Me, db: Reading,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[MoodPoint]:
    """Her mood with you after each message that moved her, oldest first, ending now."""
    keeper = MoodKeeper(db, account.user_id, time.time)
    return [MoodPoint.model_validate(point, from_attributes=True)
            for point in mood_trajectory(keeper, limit, time.time())]


@router.get("/api/self", response_model=SelfOut, tags=["you"])
def self_model(account: Me, db: Reading) -> SelfOut:
    """Who she is these days: one self, grown through everyone she talks with, with no
    one's words in it."""
    version = SelfHistory(db, SHARED_SELF, time.time).current()
    model = version.model
    return SelfOut(version=version.id, traits=list(model.traits),
                   interests=list(model.interests), opinions=list(model.opinions),
                   wants=list(model.wants), reason=version.reason)


@router.get("/api/self/history", response_model=list[SelfVersionOut], tags=["you"])
def self_history(account: Me, db: Reading) -> list[SelfVersionOut]:
    """Every version of her self, oldest first, each with what changed and why."""
    out, before = [], None
    for v in SelfHistory(db, SHARED_SELF, time.time).history():
        m = v.model
        out.append(SelfVersionOut(
            version=v.id, created_at=v.created_at, traits=list(m.traits),
            interests=list(m.interests), opinions=list(m.opinions), wants=list(m.wants),
            reason=v.reason, changes=[] if before is None else m.changes_from(before)))
        before = m
    return out
