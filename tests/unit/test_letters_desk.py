"""His letters in a conversation (os1/letters/desk.py, answers.py): "take a letter" keeps
every turn as the letter's until "end of letter"; "can you read this over?" gives her
numbered suggestions, and his answers make exactly the text he chose; a scripted model
stands in for hers."""

from __future__ import annotations

import pytest

from os1.config import Settings
from os1.letters.answers import Answer, answers
from os1.letters.desk import LetterDesk
from os1.letters.library import LetterLibrary
from os1.letters.skill import SKILL
from os1.llm.fake import FakeModel
from os1.skills.contract import Person
from os1.skills.router import IntentRouter
from os1.storage.db import Database

PASTED = ("can you read this over?\n\nDear Amy,\n\nI thinks of you evrey day. Their is a "
          "house by the the sea.\n\nLove,\nTheo")


@pytest.fixture
def desk(settings: Settings, db: Database) -> LetterDesk:
    model = FakeModel()
    return LetterDesk(Person(settings, db, lambda: model, None, "Theo"))


def said(desk: LetterDesk, text: str) -> str:
    answer = desk.answer(text)
    assert answer is not None, text
    return answer.said


def test_answers_are_read_exactly() -> None:
    assert answers("accept 1 and 3, reject the rest") == [
        Answer("accepted", (1, 3)), Answer("rejected")]
    assert answers("take the spelling ones") == [Answer("accepted", (), "spelling")]
    assert answers("no to 2") == [Answer("rejected", (2,))]
    assert answers("all of them") == [Answer("accepted")]
    assert answers("none") == [Answer("rejected")]
    assert answers("I wonder what she meant") == []


def test_a_dictated_letter_is_kept_word_for_word(desk: LetterDesk, db: Database,
                                                  settings: Settings) -> None:
    assert "listening" in said(desk, "Take a letter for Chris.")
    for part in ("Dear Chris,", "remind me to call you on Sunday.",
                 "Oops, wrong word.", "scratch that"):
        said(desk, part)
    reply = said(desk, "Happy birthday, old friend. End of letter.")
    assert "letter 1" in reply
    letter = LetterLibrary(db, settings.user).get(1)
    assert letter.text == ("Dear Chris,\n\nremind me to call you on Sunday.\n\n"
                           "Happy birthday, old friend.")
    assert letter.written_for == "Chris" and letter.title == "Dear Chris"
    assert desk.answer("Happy birthday, old friend.") is None  # dictation is over


@pytest.mark.parametrize("ending", ["That's all.", "end of lecture", "Done"])
def test_a_dictation_ends_on_words_said_alone(desk: LetterDesk, ending: str) -> None:
    said(desk, "take a letter")
    said(desk, "Dear Sam, the roses came up.")
    assert "letter 1" in said(desk, ending)
    assert desk.letters.library.get(1).text == "Dear Sam, the roses came up."


def test_read_over_gives_numbered_suggestions_and_answers_make_his_choice(
        desk: LetterDesk, db: Database, settings: Settings) -> None:
    reply = said(desk, PASTED)
    # the scripted model echoes his sentences: she read them and kept "thinks"
    assert "“thinks” → “think”" not in reply
    assert "1. “evrey” → “every”" in reply and "“the the” → “the”" in reply
    assert "accept 1 and 3" in reply  # how to answer
    library = LetterLibrary(db, settings.user)
    suggestions = [(s.number, s.edit.original) for s in desk.letters.reviews.suggestions(1)]
    numbers = {original: number for number, original in suggestions}
    keep = f"accept {numbers['evrey']} and {numbers['the the']}, reject the rest"
    done = said(desk, keep)
    assert "version 2" in done
    assert library.get(1).text == ("Dear Amy,\n\nI thinks of you every day. Their is a "
                                   "house by the sea.\n\nLove,\nTheo")
    assert desk.answer("accept 1") is None  # nothing waits any more
    again = said(desk, "can you read letter 1 over?")
    assert "“Their” → “There”" not in again


def test_a_turn_that_is_no_answer_leaves_her_suggestions_waiting(desk: LetterDesk) -> None:
    said(desk, PASTED)
    assert desk.answer("what a day it has been") is None
    assert all(not s.decision for s in desk.letters.reviews.suggestions(1))
    assert "version 2" in said(desk, "yes, all of them")


def test_asking_about_no_letter_says_how(desk: LetterDesk) -> None:
    assert "haven't given me any letters" in said(desk, "can you read it over?")
    assert "haven't given me any letters" in said(desk, "which of my letters are the best?")


def test_the_router_sends_letter_requests_to_the_letters_desk(settings: Settings,
                                                              db: Database) -> None:
    person = Person(settings, db, FakeModel, None, "Theo")
    desk = SKILL.desk(person)
    assert desk is not None
    router = IntentRouter([(SKILL, desk)])
    answer = router.answer(PASTED)
    assert answer is not None and "“evrey” → “every”" in answer.said
    assert answer.kept.startswith("(I read over his letter 1")
    assert router.answer("how was your day?") is None
