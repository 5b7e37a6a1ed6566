"""Whose is it (os1/memory/whose.py): a question about one person, notes about another."""

from __future__ import annotations

import pytest

from os1.memory.whose import someone_else

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
