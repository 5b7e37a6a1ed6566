"""His words said back to him before they reach her prompt (os1/making/his_words.py)."""

from __future__ import annotations

import pytest

from os1.making.his_words import his_things_as_his, to_him


@pytest.mark.parametrize(("his", "to_him_"), [
    ("a quiet, grieving tune about my father's funeral",
     "a quiet, grieving tune about your father's funeral"),
    ("what I imagine when I am alone", "what you imagine when you are alone"),
    ("My dog and me at the park", "Your dog and you at the park"),
    ("the song I'm humming", "the song you're humming"),
    ("our day at the beach", "our day at the beach"),  # theirs: it stays
    ("Mimi's island, imagined", "Mimi's island, imagined"),  # no "I" inside a word
])
def test_his_first_person_becomes_the_second(his: str, to_him_: str) -> None:
    assert to_him(his) == to_him_


def test_what_he_called_his_is_his_in_her_sentence() -> None:
    about = "a quiet, grieving tune about my father's funeral and my dog"
    said = "I tried to capture missing my father's funeral, and my own sorrow. My dog too."
    assert his_things_as_his(said, about) == (
        "I tried to capture missing your father's funeral, and my own sorrow. Your dog too.")
    assert his_things_as_his("I love my cello.", "our day at the beach") == "I love my cello."
