"""One reply in progress, as the faces (terminal, voice, server) receive it: a stream of
pieces to say, closed to interrupt it, and settled with what was actually heard.

Why apart from companion.py: every face holds turns, and none needs the turn loop that
makes them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from os1.mind.steering import GuardReport
from os1.storage.conversations import Status


class Said(NamedTuple):
    """What the model is answering: ``text`` in the user's turn, and ``notes`` (hers:
    that she is speaking aloud, what she recalls, her mood) in a system message just
    before it, so the small model never takes them for the user's words. ``told``: the
    note of hers that answers his question about himself (told_me.py), if one does."""

    text: str
    notes: str = ""
    told: str = ""


@dataclass
class Turn:
    """One reply in progress. Iterate to stream it; ``close()`` interrupts it.

    ``notice`` is something the user should be told before the reply (e.g. that their
    message was too long to read whole); ``text`` and ``status`` are final once the
    iteration ends or the turn is closed. ``sound`` is a WAV file to play after her words
    (a skill's answer: ``SkillAnswer.sound``), for the faces that can.
    """

    _pieces: Iterator[str]
    notice: str | None = None
    text: str = ""
    status: Status | None = None
    guard: GuardReport = field(default_factory=GuardReport)
    held: bool = False
    said_id: int | None = None  # his message it answers, as stored (None: a greeting)
    reply_id: int | None = None  # hers, once stored: nobody asks the log what came last
    sound: Path | None = None
    _store: Callable[[str, Status], int] | None = None

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def streaming(self, pieces: Iterator[str]) -> Turn:
        """This turn, its reply streamed from ``pieces`` (made once the turn exists, so
        they can fill in its text and status as they go)."""
        self._pieces = pieces
        return self

    def hold(self, store: Callable[[str, Status], int]) -> None:
        """Store the reply with ``store`` only when ``settle`` says what was heard."""
        self._store = store

    def close(self) -> None:
        close = getattr(self._pieces, "close", None)
        if close is not None:
            close()

    def settle(self, said: str, interrupted: bool) -> None:
        """A held (spoken) turn is stored only now, as what was actually heard: she may
        have written more than she got to say before she was cut off. A turn closed before it
        began has nothing to store."""
        self.close()
        store, self._store = self._store, None
        if store is not None and said.strip():
            self.reply_id = store(said, "interrupted" if interrupted
                                  else self.status or "complete")
