"""Fitting text and history into the model's context (os1/mind/context.py)."""

from __future__ import annotations

import time
from typing import Literal

import pytest

from os1.llm.base import Message
from os1.llm.fake import FakeModel
from os1.mind.context import CHARS_PER_TOKEN_MAX, Budget, HistoryWindow, fit_text
from os1.mind.persona import Persona
from os1.storage.conversations import Status, StoredMessage

NOTE = Persona.load().truncated_note
count = FakeModel().count_tokens
BUDGET = Budget(context_size=4096, reply_tokens=200)


def stored(id: int, content: str, role: Literal["user", "assistant"] | None = None,
           status: Status = "complete") -> StoredMessage:
    role = role or ("user" if id % 2 else "assistant")
    return StoredMessage(id, 1, role, content, status, 1000.0 + id)


def conversation(n: int, words: int = 8, first_id: int = 1) -> list[StoredMessage]:
    """n messages, user first, each ``words`` + 1 tokens long."""
    return [stored(i, f"m{i} " + "w " * words) for i in range(first_id, first_id + n)]


def tokens(messages: list[Message]) -> int:
    return sum(count(m.content) + 4 for m in messages)


def test_budget_arithmetic() -> None:
    assert BUDGET.prompt_tokens == 4096 - 200 - 16
    assert BUDGET.message_tokens == BUDGET.prompt_tokens // 2


def test_fit_text_keeps_short_text_intact() -> None:
    text = "Hello, it's me again. I went to the sea today!"
    assert fit_text(text, 100, count, NOTE).text == text
    assert fit_text(text, 100, count, NOTE).omitted_chars == 0
    exact = count(text)
    assert fit_text(text, exact, count, NOTE).text == text


def test_fit_text_cuts_a_megabyte_to_the_budget_keeping_head_and_tail() -> None:
    text = "HEADMARK " + "the quick brown fox, jumps. " * 37_500 + " TAILMARK"
    assert len(text) > 1_000_000
    seen_lengths: list[int] = []

    def spy(piece: str) -> int:
        seen_lengths.append(len(piece))
        return count(piece)

    started = time.perf_counter()
    fitted = fit_text(text, BUDGET.message_tokens, spy, NOTE)
    elapsed = time.perf_counter() - started

    assert count(fitted.text) <= BUDGET.message_tokens
    assert fitted.text.startswith("HEADMARK the quick brown fox")
    assert fitted.text.endswith("fox, jumps.  TAILMARK")
    assert fitted.omitted_chars > 900_000
    note = NOTE.replace("{omitted}", f"{fitted.omitted_chars:,}")
    assert f"{fitted.omitted_chars:,} characters" in note
    head, sep, tail = fitted.text.partition("\n" + note + "\n")
    assert sep, "the note saying how much was left out is in the text"
    assert text.startswith(head) and text.endswith(tail)
    assert len(head) + len(tail) + fitted.omitted_chars == len(text)
    assert len(head) > len(tail) > 0
    # The megabyte is never tokenised whole.
    assert max(seen_lengths) <= BUDGET.message_tokens * CHARS_PER_TOKEN_MAX + len(note) + 2
    assert elapsed < 2.0


def test_fit_text_handles_text_that_is_all_tokens() -> None:
    text = "!" * 1_000_000
    fitted = fit_text(text, 500, count, NOTE)
    assert count(fitted.text) <= 500
    assert fitted.text.startswith("!!!") and fitted.text.endswith("!!!")
    assert fitted.omitted_chars > 990_000


def test_fit_text_of_long_text_in_few_characters_per_token() -> None:
    # Short enough in characters, too many tokens: still cut.
    text = ". " * 3000
    fitted = fit_text(text, 1000, count, NOTE)
    assert count(fitted.text) <= 1000
    assert 0 < fitted.omitted_chars < len(text)


def test_window_keeps_everything_while_it_fits() -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    history = conversation(10)
    selected = window.select(history, 1000)
    assert selected == [Message(m.role, m.content) for m in history]


def test_window_drops_the_oldest_half_at_once_when_over_budget() -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    history = conversation(40)  # 40 x 13 tokens = 520
    available = 300
    selected = window.select(history, available)
    assert 0 < tokens(selected) <= available // 2
    # What is kept is the newest part, contiguous and in order.
    contents = [m.content for m in history]
    start = contents.index(selected[0].content)
    assert [m.content for m in selected] == contents[start:]
    assert selected[0].role == "user"


def test_window_prefix_is_stable_for_following_turns() -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    history = conversation(40)
    available = 300
    previous = window.select(history, available)
    starts = [previous[0].content]
    same_prefix_turns = 0
    for _turn in range(30):
        next_id = history[-1].id + 1
        history = history + conversation(2, first_id=next_id)
        selected = window.select(history, available)
        assert tokens(selected) <= available
        assert selected[-1].content == history[-1].content
        if selected[0].content == starts[-1]:
            # No slide: the previous prompt's history is an exact prefix of this one.
            assert selected[: len(previous)] == previous
            same_prefix_turns += 1
        else:
            starts.append(selected[0].content)
        previous = selected
    # Slides happen in big steps: most turns share the previous turn's prefix.
    assert same_prefix_turns >= 24
    assert len(starts) <= 6


@pytest.mark.parametrize("available", range(20, 400, 7))
def test_window_never_starts_with_an_assistant_message(available: int) -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    history = conversation(40)
    selected = window.select(history, available)
    assert not selected or selected[0].role == "user"
    assert tokens(selected) <= available


def test_window_after_dropping_everything_starts_with_the_next_message() -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    history = conversation(4)
    assert window.select(history, 5) == []
    history.append(stored(5, "short"))
    assert [m.content for m in window.select(history, 100)] == ["short"]


def test_interrupted_messages_get_a_dash_and_failed_or_empty_ones_are_skipped() -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    history = [
        stored(1, "tell me a story"),
        stored(2, "Once upon a time there", "assistant", "interrupted"),
        stored(3, "go on"),
        stored(4, "half a reply that failed", "assistant", "failed"),
        stored(5, "hello?"),
        stored(6, "", "assistant", "interrupted"),
        stored(7, "are you there"),
    ]
    selected = window.select(history, 1000)
    assert selected == [
        Message("user", "tell me a story"),
        Message("assistant", "Once upon a time there —"),
        Message("user", "go on"),
        Message("user", "hello?"),
        Message("user", "are you there"),
    ]


def test_a_huge_stored_message_is_fitted_in_the_window() -> None:
    window = HistoryWindow(BUDGET, count, NOTE)
    huge = "HEAD " + "word " * 300_000 + "TAIL"
    history = [stored(1, huge), stored(2, "wow, that was long")]
    selected = window.select(history, BUDGET.prompt_tokens)
    assert len(selected) == 2
    assert selected[0].content.startswith("HEAD ") and selected[0].content.endswith("TAIL")
    assert count(selected[0].content) <= BUDGET.message_tokens
    assert "characters of this message were too long" in selected[0].content
