"""Which of her notes answers his question about himself (os1/mind/told_me.py), and how
she says it (companion.py quotes it, in_character.py says it where every try made his
life up), on scripted models and the hashing embedder."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from os1.config import Settings
from os1.errors import BackendUnavailable
from os1.llm.base import GenerateOptions, Message
from os1.llm.fake import FakeCall, FakeModel
from os1.memory.embeddings import HashEmbedder
from os1.memory.retrieval import recall_of_kinds
from os1.mind.companion import Companion
from os1.mind.persona import Persona
from os1.mind.perspective import Perspective
from os1.mind.recollection import Recollection
from os1.mind.steering import Steering
from os1.mind.told_me import told_him, told_me
from os1.storage.db import Database
from os1.storage.setups import SetupRecord

EMBEDDER = HashEmbedder()
GRAMMAR = 'root ::= "Y" | "N"'
JOB = "Theo writes letters for other people at work."
AMY = "Theo's friend Amy says he should get out more."
CATHERINE = "Theo's ex-wife Catherine wants him to sign the divorce papers."
NEVER_TOLD = Persona.load().never_told


def question_of(call_messages: Sequence[Message]) -> str:
    return call_messages[-1].content


def test_the_first_note_the_model_says_answers_is_the_one() -> None:
    model = FakeModel()
    model.enqueue("N", "Y", "Y")
    found = told_me().answering(model, "What do I do for a living?", [AMY, JOB, CATHERINE])
    assert found == JOB
    assert len(model.calls) == 2, "no note is checked after one answers"
    first = model.calls[0]
    assert first.options.max_tokens == 1 and first.options.grammar == GRAMMAR
    assert first.options.temperature == 0.0
    assert "What do I do for a living?" in question_of(first.messages)
    assert AMY in question_of(first.messages) and JOB in question_of(model.calls[1].messages)
    # the instructions and examples come first, the same for every note
    assert first.messages[:-1] == model.calls[1].messages[:-1]
    assert first.messages[0].role == "system" and len(first.messages) > 3


def test_no_note_when_none_answers_and_only_the_nearest_few_are_asked() -> None:
    model = FakeModel()
    model.enqueue(*["N"] * 5)
    notes = [AMY, CATHERINE, JOB, "Theo had a long day.", "Theo made lentil soup."]
    assert told_me().answering(model, "What's my brother's name?", notes) is None
    assert len(model.calls) == told_me().candidates == 3


@pytest.mark.parametrize("said", ["Sure", "Yes", "y", ""])
def test_anything_but_the_yes_letter_is_no(said: str) -> None:
    model = FakeModel()
    model.enqueue(said)
    assert told_me().answering(model, "What do I do for a living?", [JOB]) is None


def test_a_failing_model_leaves_her_without_a_note() -> None:
    model = FakeModel(fail_with=BackendUnavailable("Can't reach the model server."))
    assert told_me().answering(model, "What do I do for a living?", [JOB]) is None


@pytest.mark.parametrize(("note", "said"), [
    (JOB, "You write letters for other people at work"),
    ("Theo's sister Marguerite lives in Lisbon.", "Your sister Marguerite lives in Lisbon"),
    ("Theo still feels married.", "You still feel married"),
    ("Theo is having lunch with Catherine on Thursday.",
     "You are having lunch with Catherine on Thursday"),
    ("Theo doesn't know if he can do it.", None),  # "he": his, or another's?
    ("Theo doesn't know whether to sign.", "You don't know whether to sign"),
    ("Theo teaches piano and tries to practise daily.",
     "You teach piano and tries to practise daily"),  # only the verb after his name
    ("Theo usually goes running on Sundays.", "You usually go running on Sundays"),
    ("Theo wrote a letter from a grandson to his grandmother.", None),
    ("theo\u2019s dog is called Biscuit!", "Your dog is called Biscuit"),
    ("Amy says Theo should get out more.", None),  # about Amy first
    ("Theodore plays chess.", None),  # another name
    ("Theo", None),
])
def test_a_note_is_said_to_him(note: str, said: str | None) -> None:
    assert told_him(note, "Theo") == said


def test_his_full_name_or_first_name_opens_a_note_about_him() -> None:
    assert told_him("Theo Twombly writes letters.", "Theo Twombly") == "You write letters"
    assert told_him("Theo writes letters.", "Theo Twombly") == "You write letters"


@pytest.mark.both_backends
def test_the_nearest_notes_are_what_she_concluded_never_moments_or_anothers(
        db: Database, settings: Settings) -> None:
    mine = Recollection(db, settings.user, EMBEDDER, time.time)
    mine.store.add("moment", "Theo said: I write letters for other people at work.")
    mine.store.add("fact", JOB)
    mine.store.add("fact", "Theo's bus was late again this morning.")
    mine.store.add("insight", "Theo finds meaning in writing letters for people.")
    mine.store.add("preference", "Theo prefers writing by hand at work.")
    theirs = Recollection(db, "someone-else", EMBEDDER, time.time)
    theirs.store.add("fact", "Ana writes letters for a living at work.")
    found = mine.nearest_notes("Good morning. Who do I write letters for?",
                               told_me().kinds, 3)
    assert found == [JOB, "Theo prefers writing by hand at work.",
                     "Theo's bus was late again this morning."]
    assert mine.nearest_notes("What do I write?", told_me().kinds, 0) == []
    assert theirs.nearest_notes("Who do I write letters for?", told_me().kinds, 3) == \
        ["Ana writes letters for a living at work."]


def test_a_greeting_does_not_make_a_note_near(db: Database, settings: Settings) -> None:
    store = Recollection(db, settings.user, EMBEDDER, time.time).store
    store.add("fact", JOB)
    store.add("fact", "Theo's bus was late again this morning.")
    found = recall_of_kinds(store, "Good morning. Who do I write letters for?", ["fact"], 2)
    assert found[0].memory.content == JOB
    assert found[1].cosine == pytest.approx(0.0), "'morning' was searched for"
    assert recall_of_kinds(store, "Good morning!", ["fact"], 2) != [], "all greeting: kept"
    assert recall_of_kinds(store, "Who do I write for?", [], 2) == []


@dataclass
class Reader(FakeModel):
    """Answers the note question as a reader would, for these tests: a note answers a
    question about his living if it is about letters; her replies come from the queue.
    ``prefill`` is there so that ``anticipate`` builds her notes."""

    prefilled: int = 0

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions)\
            -> Iterator[str]:
        if options.grammar != GRAMMAR:
            return super().stream_chat(messages, options)
        self.calls.append(FakeCall(list(messages), options))
        question, note = messages[-1].content.split("\n")[:2]
        return iter(["Y" if "living" in question and "letters" in note else "N"])

    def prefill(self, messages: Sequence[Message]) -> None:
        self.prefilled += 1


def companion_with(model: FakeModel, db: Database, settings: Settings,
                   notes: Sequence[str]) -> Companion:
    memory = Recollection(db, settings.user, EMBEDDER, time.time)
    for note in notes:
        memory.store.add("fact", note)
    return Companion(model, db, settings, steering=Steering.load(), memory=memory)


def replies(model: FakeModel) -> list[list[Message]]:
    return [c.messages for c in model.calls if c.options.grammar != GRAMMAR]


@pytest.mark.parametrize(("tried", "label"), [
    ("You work as a software engineer.", "invented"),
    ("You write for a living.", "missed"),  # true, but not what her note says
    ("I write for a living.", "missed"),  # turned round on the last try, then too vague
])
def test_a_note_that_answers_him_is_quoted_and_said_when_no_try_says_it(
        db: Database, settings: Settings, setup_record: SetupRecord, tried: str,
        label: str) -> None:
    model = Reader()
    model.enqueue(*[tried] * 3)
    companion = companion_with(model, db, settings, [JOB, AMY, CATHERINE])
    turn = companion.reply("Good morning. What do I do for a living?")
    said = "".join(turn)
    assert said == "You write letters for other people at work, you told me."
    assert turn.guard.labels == (label,)
    notes = replies(model)[0][-2]
    assert notes.role == "system"
    assert f'(Theo told me before: "{JOB}")' in notes.content
    assert len(replies(model)) == 3, "every try made it up"


def test_she_answers_from_the_quoted_note_at_once(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = Reader()
    model.enqueue("You write letters for other people at work. I love that about you.")
    companion = companion_with(model, db, settings, [JOB, AMY])
    said = "".join(companion.reply("What do I do for a living?"))
    assert said.startswith("You write letters for other people at work.")
    assert len(replies(model)) == 1


def test_without_a_note_that_answers_she_says_he_has_not_told_her(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = Reader()
    model.enqueue(*["Your brother's name is Marcus."] * 3)
    companion = companion_with(model, db, settings, [JOB, AMY, CATHERINE])
    said = "".join(companion.reply("What's my brother's name?"))
    assert said == NEVER_TOLD
    checked = [c for c in model.calls if c.options.grammar == GRAMMAR]
    assert len(checked) == 3, "each of the nearest notes was asked about, none answered"
    assert "told me before" not in replies(model)[0][-2].content


def test_a_note_not_plainly_about_him_is_quoted_but_not_said_for_him(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = Reader()
    model.enqueue(*["You work as a software engineer."] * 3)
    grandson = "Theo wrote letters from a grandson to his grandmother at work."
    companion = companion_with(model, db, settings, [grandson])
    said = "".join(companion.reply("What do I do for a living?"))
    assert grandson in replies(model)[0][-2].content
    assert said == NEVER_TOLD


def test_no_note_is_checked_for_a_message_not_about_himself_or_while_he_speaks(
        db: Database, settings: Settings, setup_record: SetupRecord) -> None:
    model = Reader()
    companion = companion_with(model, db, settings, [JOB])
    "".join(companion.reply("I wrote a lot of letters today."))
    companion.anticipate("What do I do for a")
    assert model.prefilled == 1
    assert not [c for c in model.calls if c.options.grammar == GRAMMAR]


def perspective(message: str, answer: str) -> Perspective:
    steering = Steering.load()
    return Perspective.of(message, steering.minds, steering.not_names, [JOB], NEVER_TOLD,
                          steering.modifiers, steering.plain, answer)


@pytest.mark.parametrize(("message", "answer", "first", "misses"), [
    ("What do I do for a living?", "You write letters for other people at work",
     "You write for a living.", True),
    ("What do I do for a living?", "You write letters for other people at work",
     "I don't know, you haven't told me.", True),
    ("What do I do for a living?", "You write letters for other people at work",
     "Good morning, Theo!", True),
    ("What do I do for a living?", "You write letters for other people at work",
     "You write letters for people, love letters mostly.", False),
    ("What do I do for a living?", "You write letters for other people at work",
     "You're a letter writer.", False),
    ("Where does my sister live?", "Your sister Marguerite lives in Lisbon",
     "She lives in Lisbon.", False),  # what it tells beyond his question: one of two
    ("When am I seeing Catherine?",
     "You are having lunch with Catherine on Thursday to sign the divorce papers",
     "On Thursday, over lunch.", False),  # two are enough
    ("What do I do for a living?", "", "You write for a living.", False),  # no note
    ("I write letters.", "You write letters for other people at work",
     "That's lovely.", False),  # no question about himself
])
def test_her_first_sentence_must_say_the_note_that_answers_him(
        message: str, answer: str, first: str, misses: bool) -> None:
    assert perspective(message, answer).misses(first) is misses
