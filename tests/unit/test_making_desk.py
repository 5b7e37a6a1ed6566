"""What she makes, in a conversation (os1/making/desk.py): "play me something about this
morning" makes and keeps a piece, "slower" right after changes it (and only right after),
"draw us at the beach" then "add a dog", "play the song you wrote about the beach" finds
it again, "what have you made for me?" lists them; a failure keeps nothing and she says
so. The engines are scripted (test_making_studio.py's ``Engines``)."""

from __future__ import annotations

import pytest

from os1.config import Settings
from os1.data import read_toml
from os1.letters.desk import LetterDesk
from os1.letters.skill import SKILL as LETTERS
from os1.llm.fake import FakeModel
from os1.making.desk import MakingDesk, compose_request
from os1.making.errors import NotWritable, RendererMissing
from os1.making.music.character import MAX_BARS
from os1.making.skill import MADE
from os1.memory.records import Memory
from os1.skills.contract import Person, SkillAnswer
from os1.skills.intents import builtin_intents, find_intents
from os1.skills.router import IntentRouter
from os1.storage.db import Database
from tests.unit.test_making_studio import Engines, nothing_kept, scripted_engines

DESK = read_toml("making.toml")["desk"]


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> Engines:
    return scripted_engines(monkeypatch)


def person(settings: Settings, db: Database, memories: object = None) -> Person:
    model = FakeModel()
    return Person(settings, db, lambda: model, memories, "Theo")  # type: ignore[arg-type]


@pytest.fixture
def router(settings: Settings, db: Database, engines: Engines) -> IntentRouter:
    """Her letters and what she makes, as in a conversation (patterns decide)."""
    theo = person(settings, db)
    return IntentRouter([(LETTERS, LetterDesk(theo)), (MADE, MakingDesk(theo))])


def said(router: IntentRouter, text: str) -> SkillAnswer:
    answer = router.answer(text)
    assert answer is not None, text
    return answer


@pytest.mark.parametrize(("text", "intent"), [
    ("play me something about this morning", "compose"),
    ("Compose a song about our day at the beach.", "compose"),
    ("could you write me a piece of music about the rain?", "compose"),
    ("play Yesterday by the Beatles", "compose"),
    ("compose a 200 bar symphony about the sea", "compose"),
    ("draw me what you imagine my apartment looks like", "draw"),
    ("draw us at the beach", "draw"),
    ("can you paint me a picture of the sea?", "draw"),
    ("play the song you wrote about the beach", "play"),
    ("show me the drawing of my apartment", "play"),
    ("play it again", "play"),
    ("play the beach song", "play"),
    ("write me a lullaby for Anna", "compose"),
    ("play piece 2", "play"),
    ("what have you made for me?", "list"),
    ("what songs have you written for me?", "list"),
    ("make piece 2 slower", "revise"),
    ("make the song about the beach sadder", "revise"),
])
def test_his_requests_are_found_as_intents(text: str, intent: str) -> None:
    found = [m.intent.name for m in find_intents(builtin_intents("made"), text) if m.sure]
    assert found[:1] == [intent], found
    for other in ("letters", "mail", "calendar"):
        assert not [m for m in find_intents(builtin_intents(other), text) if m.sure], other


@pytest.mark.parametrize(("text", "request_text"), [
    ("play me a song about the rain", "the rain"),
    ("write me a lullaby for Anna", "a lullaby for Anna"),
    ("compose a 200 bar symphony about the sea", "a 200 bar symphony about the sea"),
    ("play me a song about the sea, 64 bars", "the sea, 64 bars"),
    ("play me something", DESK["about_nothing"]),
    ("play Yesterday by the Beatles", "play Yesterday by the Beatles"),
])
def test_what_the_studio_is_asked_for(text: str, request_text: str) -> None:
    match = find_intents(builtin_intents("made"), text)[0]
    assert match.intent.name == "compose"
    assert compose_request(text, match.slots, DESK["about_nothing"]) == request_text


@pytest.mark.parametrize("text", [
    "I like to draw", "could you draw the curtains?", "we played in the snow all day",
    "what have you done for me lately?", "take a letter", "can you make it flow?",
    "let's play it by ear", "that song on the radio was lovely", "I painted the kitchen",
    "slower", "add a dog", "make the sky darker", "let's play a game", "draw a conclusion",
    "I'd like to draw you", "write me a letter about the sea",
])
def test_talk_that_is_not_a_request_is_left_alone(text: str) -> None:
    assert not find_intents(builtin_intents("made"), text)


def test_a_piece_is_made_kept_and_changed_right_after(router: IntentRouter,
                                                      engines: Engines) -> None:
    made = said(router, "play me something about this morning")
    assert engines.composed[0][0] == "this morning"
    assert made.said.startswith("I wrote it in ") and "gallery, number 1" in made.said
    assert made.kept.startswith("(I wrote him a piece about this morning: work 1")
    assert made.sound is not None and made.sound.read_bytes()[:4] == b"RIFF"
    slower = said(router, "slower")
    assert "version 2" in slower.kept and "“slower”" in slower.kept
    assert slower.sound is not None and slower.sound != made.sound  # the new version's
    tempi = [c.tempo for _about, c in engines.composed]
    assert tempi[1] < tempi[0]
    unclear = said(router, "make it purple")
    assert "How should I change" in unclear.said and len(engines.composed) == 2
    assert router.answer("how was your day?") is None  # talk: "slower" means nothing now
    assert router.answer("slower") is None
    assert len(engines.composed) == 2


def test_a_drawing_is_made_and_changed(router: IntentRouter, engines: Engines) -> None:
    drawn = said(router, "draw us at the beach")
    assert engines.drawn == [("us at the beach", "")]
    assert drawn.kept.startswith("(I made him a drawing of us at the beach: work 1")
    assert drawn.sound is None
    said(router, "add a dog")
    said(router, "and make the sky darker")
    assert [r for _a, r in engines.drawn] == ["", "add a dog", "and make the sky darker"]
    listed = said(router, "what have you made for me?").said
    assert "“Us at the beach”: a drawing (3 versions)" in listed


def test_what_she_made_is_found_again(settings: Settings, db: Database,
                                      router: IntentRouter, engines: Engines) -> None:
    assert said(router, "what have you made for me?").said == DESK["nothing_yet"]
    said(router, "compose a song about our day at the beach")
    said(router, "draw me what you imagine my apartment looks like")
    later = IntentRouter([(MADE, MakingDesk(person(settings, db)))])  # another conversation
    beach = said(later, "play the song you wrote about the beach")
    assert "“Our day at the beach”" in beach.said and "number 1" in beach.said
    assert beach.kept == "(I played him “Our day at the beach” again: work 1.)"
    assert beach.sound is not None and beach.sound.suffix == ".wav"
    flat = said(later, "show me the drawing of my apartment")
    assert "number 2" in flat.said and flat.sound is None
    again = said(later, "play it again")
    assert "number 2" in again.said  # "it": the one just talked about
    assert "haven't written you anything about the moon" in said(
        later, "play the song about the moon").said
    assert "haven't made you a work 9" in said(later, "play piece 9").said
    assert len(engines.composed) == 1 and len(engines.drawn) == 1  # nothing new made


def test_a_named_work_is_changed(router: IntentRouter, engines: Engines) -> None:
    said(router, "compose a song about our day at the beach")
    said(router, "draw us in the rain")
    assert router.answer("how are you?") is None
    assert engines.composed[0][1].mode == "major"
    changed = said(router, "make the song about the beach sadder")
    assert "number 1" in changed.said and "“sadder”" in changed.kept
    assert engines.composed[-1][1].mode == "minor"
    assert "version 2" in said(router, "in drawing 2, add an umbrella").kept


def test_her_own_song_instead_and_the_cap_are_said(router: IntentRouter,
                                                   engines: Engines) -> None:
    lines = read_toml("making.toml")["lines"]
    borrowed = said(router, "play Yesterday by the Beatles")
    assert engines.composed[-1][0] == "Yesterday" and lines["own_instead"] in borrowed.said
    capped = said(router, "compose a 200 bar symphony about the sea")
    about, character = engines.composed[-1]
    assert about == "a 200 bar symphony about the sea" and character.bars == MAX_BARS
    assert f"I kept it to {MAX_BARS} bars" in capped.said


def test_a_failure_keeps_nothing_and_she_says_why(router: IntentRouter, engines: Engines,
                                                  db: Database, settings: Settings) -> None:
    engines.fail = NotWritable("the tune would not stay in its key")
    answer = said(router, "play me something about the rain")
    assert answer.said.startswith("I tried") and "would not stay in its key" in answer.said
    assert nothing_kept(db, settings)
    assert router.answer("slower") is None  # nothing was made to change
    engines.fail = None
    engines.render_fail = RendererMissing("fluidsynth is missing: sudo apt install fluidsynth",
                                          "Install the Debian package fluidsynth.")
    missing = said(router, "play me something about the rain")
    assert "sudo apt install fluidsynth" in missing.said and nothing_kept(db, settings)


def test_the_piece_comes_from_her_memory_of_the_moment(settings: Settings, db: Database,
                                                      engines: Engines) -> None:
    memory = Memory(1, "moment", "Theo ran along the river this morning in the fog.", "Theo",
                    0.6, 0.0, None, (), None, None)
    asked: list[list[str]] = []

    def memories(words: list[str], limit: int) -> list[tuple[Memory, float]]:
        asked.append(list(words))
        return [(memory, 1.0)]

    desk = MakingDesk(person(settings, db, memories))
    desk.answer("play me something about this morning")
    assert asked and "morning" in asked[0]
    assert desk.works.all()[0].moment == memory.content
