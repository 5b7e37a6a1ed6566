"""Fitting a conversation into the model's context window.

Two goals pull against each other: keep as much recent conversation as fits, and keep the
prompt's *prefix* unchanged from turn to turn so the model reuses its evaluated state
(time to first token then depends on the new message, not on the conversation's length).
So the window of history slides in large steps: when it no longer fits, the oldest half
is dropped at once, and the next many turns again share one prefix. What the user said
last is always in the prompt; if it alone is too long it is shortened visibly, with a note
to the model, and the user is told (the full text stays in the log).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from os1.llm.base import Message
from os1.storage.conversations import StoredMessage

CountTokens = Callable[[str], int]
SAFETY_TOKENS = 16
# Beyond this many characters per budgeted token a text is cut before it is tokenised, so
# that a 1 MB paste is never tokenised whole (real text runs 3-5 characters a token).
CHARS_PER_TOKEN_MAX = 8


@dataclass(frozen=True)
class Budget:
    context_size: int
    reply_tokens: int

    @property
    def prompt_tokens(self) -> int:
        return self.context_size - self.reply_tokens - SAFETY_TOKENS

    @property
    def message_tokens(self) -> int:
        """The most one message may take: half the prompt, so history still fits beside it."""
        return self.prompt_tokens // 2


@dataclass(frozen=True)
class FittedText:
    text: str
    omitted_chars: int


def fit_text(text: str, max_tokens: int, count: CountTokens, note: str) -> FittedText:
    """``text`` if it fits in ``max_tokens``, else its beginning and end around ``note``
    (``{omitted}`` in it is replaced by the number of characters left out)."""
    if len(text) <= max_tokens * CHARS_PER_TOKEN_MAX and count(text) <= max_tokens:
        return FittedText(text, 0)
    keep = min(len(text), max_tokens * CHARS_PER_TOKEN_MAX)
    while keep > 0:
        head, tail = text[: keep * 2 // 3], text[len(text) - keep // 3:] if keep >= 3 else ""
        omitted = len(text) - len(head) - len(tail)
        candidate = head + "\n" + note.replace("{omitted}", f"{omitted:,}") + "\n" + tail
        if omitted == 0:
            candidate = text
        if count(candidate) <= max_tokens:
            return FittedText(candidate, omitted)
        keep = keep * 3 // 4
    return FittedText(note.replace("{omitted}", f"{len(text):,}"), len(text))


class HistoryWindow:
    """Which stored messages go into the prompt; remembers where its window starts."""

    def __init__(self, budget: Budget, count: CountTokens, note: str) -> None:
        self.budget = budget
        self._count = count
        self._note = note
        self._start_id = 0
        self._cache: dict[int, tuple[str, int]] = {}

    @property
    def start_id(self) -> int:
        return self._start_id

    def fitted(self, message: StoredMessage) -> tuple[str, int]:
        """Text and token count of a stored message as it goes into the prompt."""
        if message.id not in self._cache:
            text = fit_text(message.content, self.budget.message_tokens, self._count, self._note)
            content = text.text
            if message.status == "interrupted":
                content = content + " —"
            self._cache[message.id] = (content, self._count(content) + 4)
        return self._cache[message.id]

    def select(self, history: Sequence[StoredMessage], available: int) -> list[Message]:
        """Messages from the window start on; slides forward by half when over budget."""
        usable = [m for m in history if m.status != "failed" and m.content]
        kept = [m for m in usable if m.id >= self._start_id]
        if self._tokens(kept) > available:
            kept = self._slide(usable, available // 2)
            self._start_id = kept[0].id if kept else (usable[-1].id + 1 if usable else 0)
        return [Message(m.role, self.fitted(m)[0]) for m in kept]

    def _slide(self, usable: Sequence[StoredMessage], target: int) -> list[StoredMessage]:
        kept: list[StoredMessage] = []
        total = 0
        for message in reversed(usable):
            tokens = self.fitted(message)[1]
            if total + tokens > target:
                break
            kept.append(message)
            total += tokens
        kept.reverse()
        # A prompt should not open with her half of an exchange.
        while kept and kept[0].role == "assistant":
            kept.pop(0)
        return kept

    def _tokens(self, messages: Sequence[StoredMessage]) -> int:
        return sum(self.fitted(m)[1] for m in messages)
