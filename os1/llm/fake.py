"""A scripted model for fast unit tests: replies are queued with ``enqueue`` (as in
simonw/llm's mock model), and every call is recorded for assertions."""

from __future__ import annotations

import json
import re
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from os1.errors import ConfigError
from os1.llm.base import GenerateOptions, Message


@dataclass
class FakeCall:
    messages: list[Message]
    options: GenerateOptions


@dataclass
class FakeModel:
    """Replies with queued texts, else echoes the last user message.

    Replies stream word by word so that streaming code paths are exercised; ``fail_with``
    raises an exception at the start of the next call, to simulate a broken backend.
    """

    context_size: int = 4096
    name: str = "fake"
    replies: deque[str] = field(default_factory=deque)
    calls: list[FakeCall] = field(default_factory=list)
    fail_with: Exception | None = None
    closed: bool = False
    # a reply's words after its first sentence wait until this file exists (at most
    # HOLD_S): a test outside the process holds her mid-reply, as a slow model would
    hold_until: Path | None = None

    @classmethod
    def from_spec(cls, spec: str, context_size: int) -> FakeModel:
        """``fake`` or ``fake:FILE`` where FILE holds a JSON list of replies to play, or
        an object ``{"replies": [...], "hold_until": "PATH"}``."""
        model = cls(context_size=context_size)
        _, _, path = spec.partition(":")
        if path:
            try:
                replies = json.loads(Path(path).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise ConfigError(f"Can't read fake replies from {path}: {exc}.") from exc
            if isinstance(replies, dict) and isinstance(replies.get("hold_until"), str):
                model.hold_until = Path(replies["hold_until"])
                replies = replies.get("replies")
            if not isinstance(replies, list):
                raise ConfigError(f"{path} must hold a JSON list of replies, or an object "
                                  'with one as "replies".')
            model.enqueue(*(str(r) for r in replies))
        return model

    def enqueue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions) -> Iterator[str]:
        self.calls.append(FakeCall(list(messages), options))
        if self.fail_with is not None:
            error, self.fail_with = self.fail_with, None
            raise error
        if self.replies:
            text = self.replies.popleft()
        else:
            last_user = next((m.content for m in reversed(messages) if m.role == "user"), "")
            text = f"You said: {_without_notes(last_user)[:200]}"
        return self._stream(text, options.max_tokens, self.hold_until)

    @staticmethod
    def _stream(text: str, max_tokens: int, hold_until: Path | None = None) -> Iterator[str]:
        holding = hold_until is not None
        for i, piece in enumerate(re.findall(r"\S+\s*|\s+", text)):
            if i >= max_tokens:
                return
            yield piece
            if holding and re.search(r"[.!?]\s*$", piece):
                holding = False
                _wait_for(hold_until)

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\w+|[^\w\s]", text))

    def close(self) -> None:
        self.closed = True


HOLD_S = 60.0


def _wait_for(path: Path | None) -> None:
    deadline = time.monotonic() + HOLD_S
    while path is not None and not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


_NOTES = re.compile(r"^(?:\([^\n]*\)\n\n)?(?:\(My private notes.*?\n\)\n\n)?", re.DOTALL)


def _without_notes(text: str) -> str:
    """What the user said, without the notes put in front of it (the one-line spoken note,
    then her memory's), so the echo stays what tests expect."""
    return _NOTES.sub("", text, count=1)
