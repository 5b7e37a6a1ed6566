"""The form he asks for (os1/mind/form.py): read from his words, held to by a grammar."""

from __future__ import annotations

import pytest

from os1.mind.form import Form, FormReader

READER = FormReader.load()


@pytest.mark.parametrize(("message", "form"), [
    ("Write me two lines about the rain tonight.", Form(lines=2)),
    ("write a haiku about my cat, she's asleep on my keyboard", Form(lines=3)),
    ("write a limerick about my terrible landlord", Form(lines=5)),
    ("we're walking by the ocean. write me a 4 line poem about it", Form(lines=4)),
    ("In one sentence, what do you like about me?", Form(sentences=1)),
    ("tell me a story in exactly three sentences", Form(sentences=3)),
    ("In a word, how was your day?", Form(words=1)),
    ("Give me three words for how you feel right now.", Form(words=3)),
    ("Answer with just yes or no: are you happy right now?", Form(yes_no=True)),
    ("be honest. yes or no?", Form(yes_no=True)),
])
def test_a_form_asked_for_is_read(message: str, form: Form) -> None:
    assert READER.read(message) == form
    assert form.asked


@pytest.mark.parametrize("message", [
    "I wrote two lines of code today and called it a day.",  # no request
    "a word of advice?",  # "a" is no count
    "can you say a few words about it?",  # no number
    "Tell me about your day.",
    "Write me something about the sea.",
    "Write me two lines about the rain. " * 40,  # a long paste is no form request
    "Five words max: what should I name the new plant?",  # a limit, not a count
    "help me write an apology text, under 30 words",
])
def test_no_form_where_none_was_asked(message: str) -> None:
    assert READER.read(message) == Form()
    assert not READER.read(message).asked
    assert Form().grammar() is None


def test_lines_are_a_grammar_of_exactly_that_many_lines_ended_by_punctuation() -> None:
    grammar = Form(lines=2).grammar()
    assert grammar is not None
    assert grammar.startswith('root ::= line "\\n" line\n')
    assert "line ::= " in grammar and "[,.!?;]" in grammar


def test_words_allow_an_and_before_the_last_and_one_word_alone() -> None:
    assert Form(words=3).grammar() == (
        "root ::= word sep word sep (\"and \")? word [.!]?\n"
        "sep ::= \", \" | \" \"\n"
        "word ::= [A-Za-z'\\-]{1,24}\n")
    one = Form(words=1).grammar()
    assert one is not None and one.startswith("root ::= word [.!]?")


def test_yes_or_no_is_a_bare_yes_or_no() -> None:
    assert Form(yes_no=True).grammar() == 'root ::= ("Yes" | "No") [.!]\n'
    assert Form(sentences=2).grammar() is None, "sentences are counted by the guard instead"
