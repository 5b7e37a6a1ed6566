"""Whose is it (os1/memory/whose.py): a question about one person, notes about another."""

from __future__ import annotations

import pytest

from os1.memory.whose import lent_answer, someone_else

NOTES = ["John: I donated my old car to a homeless shelter last week.",
         "Maria: I started aerial yoga and volunteer at the shelter.",
         "John: My aunt inspired me to volunteer."]


def test_what_one_did_asked_of_another_is_found() -> None:
    assert someone_else("What did Maria donate to a luxury store in December 2023?",
                        NOTES) == ("Maria", "John")


@pytest.mark.parametrize("question", [
    "What did John donate to the shelter?",  # his own
    "Where does Maria volunteer?",  # hers
    "Who inspired Maria to start volunteering?",  # a note names her: not for this check
    "What does Maria think about cooking?",  # no note on it
    "What did you eat today?",  # nobody named
])
def test_nothing_is_said_where_the_notes_may_hold_it(question: str) -> None:
    assert someone_else(question, NOTES) is None


def test_his_name_and_hers_are_no_one_asked_about() -> None:
    notes = ["Theo said: My boss Karen gave me a raise."]
    assert someone_else("What did Theo get from his boss?", notes, ["Theo", "Wren"]) is None
    assert someone_else("What did Amy say about my raise?", notes, ["Theo", "Wren"]) == (
        "Amy", "Karen")


# -- her answer, checked once written (lent_answer) -----------------------------------------

TIMELINE = ["Tim: During Thanksgiving we watch Home Alone, it always makes us laugh.",
            "John: Home Alone is a classic! What other movies do you watch?",
            "John: I'm learning German for my trip, it's tough.",
            "Tim: Wow, learning German sounds fun."]


def test_an_answer_from_another_persons_note_is_lent() -> None:
    assert lent_answer("Which movie does John watch at Thanksgiving?", "Home Alone",
                       TIMELINE) == ("John", "Tim")


def test_the_earliest_of_the_fullest_notes_is_the_source_not_its_echo() -> None:
    assert lent_answer("Which language is John learning?", "German", TIMELINE) is None
    assert lent_answer("Which language is Tim learning?", "German", TIMELINE) == (
        "Tim", "John")


@pytest.mark.parametrize(("question", "answer"), [
    ("Which movie does Tim watch at Thanksgiving?", "Home Alone"),  # his own
    ("Which movie does John like?", "Star Wars"),  # no note holds it: not this check's
    ("What do you watch?", "Home Alone"),  # nobody asked about
    ("Which movie does John watch?", "the"),  # no word of substance
])
def test_an_answer_is_not_lent_where_it_may_be_theirs(question: str, answer: str) -> None:
    assert lent_answer(question, answer, TIMELINE) is None


def test_in_her_chat_his_name_and_hers_own_no_note() -> None:
    notes = ["Theo's sister Anna is a nurse in Lisbon.", "Theo's friend Amy paints."]
    mine = ["Theo", "Wren"]
    assert lent_answer("What does Amy do?", "She is a nurse.", notes, mine) == ("Amy", "Anna")
    assert lent_answer("What does Anna do?", "She is a nurse.", notes, mine) is None
