"""Not calling him by someone else's name: who counts as named, what counts as addressing,
and the guard asking again (or, on its last try, dropping the name)."""

from __future__ import annotations

import pytest

from os1.mind.addressing import Addressing, others_named
from os1.mind.steering import GuardReport, Steering, guarded_stream
from tests.unit.test_steering import DETECTOR, Script

NOT_NAMES = Steering.load().not_names


@pytest.mark.parametrize(("said", "names"), [
    ("My sister Ana lives in Porto, she teaches piano.", ["Ana", "Porto"]),
    ("Olivia, my neighbour, brought me cookies.", ["Olivia"]),
    ("Sometimes I feel like nobody really listens to me.", []),
    ("Guess what, Theo got the apartment! Honestly, Saturday was great.", []),
    ("Jean-Luc and I went hiking.", ["Jean-Luc"]),
    ("I ran into my old teacher, Mr. Patel, at the station.", ["Patel"]),
])
def test_the_names_in_his_message_that_are_not_his(said: str, names: list[str]) -> None:
    assert others_named(said, ["Theo"], NOT_NAMES) == names


@pytest.mark.parametrize(("reply", "cleaned"), [
    ("Hey Ana! How is Porto treating her?", "How is Porto treating her?"),
    ("Well, Ana, it sounds like she loves it.", "It sounds like she loves it."),
    ("Oh, hello there, Mira. I've been thinking.", "I've been thinking."),
    ("That's great news, Marcus! Tell me more.", "That's great news! Tell me more."),
    ("Wow, Ana! Piano is lovely.", "Piano is lovely."),
])
def test_a_reply_addressing_someone_else_and_without_the_name(reply: str,
                                                               cleaned: str) -> None:
    addressing = Addressing(["Ana", "Marcus", "Mira"])
    assert addressing.find(reply) is not None
    assert addressing.without(reply) == cleaned


@pytest.mark.parametrize("reply", [
    "Ana teaches piano? That's lovely.",
    "Ana's pupils are lucky.",
    "Ana, your sister, sounds wonderful.",
    "I'd love to hear Ana and Marcus play.",
    "Hey Theo! How was your day?",
    "Anastasia, what a name.",
])
def test_talking_about_them_is_not_addressing_them(reply: str) -> None:
    assert Addressing(["Ana", "Marcus"]).find(reply) is None


def test_no_names_finds_nothing() -> None:
    assert Addressing([]).find("Hey Ana!") is None
    assert Addressing([]).without("Hey Ana!") == "Hey Ana!"


def test_the_guard_asks_again_when_she_calls_him_by_his_sisters_name() -> None:
    script = Script("Hey Ana! How is Porto?", "Porto! Does she like teaching there?")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, addressing=Addressing(["Ana"])))
    assert text == "Porto! Does she like teaching there?"
    assert script.attempts == [0, 1]
    assert report.labels == ("misaddress",)


@pytest.mark.parametrize("split", [True, False])
def test_on_the_last_try_the_name_is_dropped_not_the_reply(split: bool) -> None:
    bad = "Well, Ana, that sounds lovely. Does she play every day?"
    script = Script(bad, bad, bad, split=split)
    text = "".join(guarded_stream(script, DETECTOR, GuardReport(), max_attempts=3,
                                  addressing=Addressing(["Ana"])))
    assert script.attempts == [0, 1, 2]
    assert text == "That sounds lovely. Does she play every day?"


def test_a_greeting_alone_leaves_the_rest_of_the_reply() -> None:
    script = Script("Hey Ana! How lovely.")
    text = "".join(guarded_stream(script, DETECTOR, GuardReport(), max_attempts=1,
                                  addressing=Addressing(["Ana"])))
    assert text == "How lovely."


@pytest.mark.parametrize(("reply", "kept"), [
    ("That sounds lovely. Ellie, you're doing so well with the piano!",
     "That sounds lovely."),
    ("That sounds lovely. I'm proud of you. Well, Ellie, keep going.",
     "That sounds lovely. I'm proud of you."),
    ("That sounds lovely. I bet she's proud of you, Ellie! Tell me more.",
     "That sounds lovely."),
    ("That sounds lovely. Ellie must be proud. Ellie, your niece, is lucky.",
     "That sounds lovely. Ellie must be proud. Ellie, your niece, is lucky."),
])
def test_a_later_sentence_addressing_someone_else_ends_her_reply_before_it(
        reply: str, kept: str) -> None:
    script, report = Script(reply), GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, addressing=Addressing(["Ellie"])))
    assert text == kept
    assert script.attempts == [0], "what she said stands; only what follows is cut"
    assert report.cut == (text != reply)


def test_a_name_and_comma_waits_for_the_next_word_in_the_stream() -> None:
    script = Script("Ana, your sister, sounds wonderful. Does she play often?")
    report = GuardReport()
    text = "".join(guarded_stream(script, DETECTOR, report, addressing=Addressing(["Ana"])))
    assert text == "Ana, your sister, sounds wonderful. Does she play often?"
    assert script.attempts == [0]


def test_a_goodbye_is_no_name_to_keep_her_from_saying_back() -> None:
    not_names = Steering.load().not_names
    assert others_named("Goodnight.", ["Theodore"], not_names) == []
    assert others_named("Good morning, Sam!", ["Theodore"], not_names) == ["Sam"]
