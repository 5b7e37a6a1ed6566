"""What the letters skill keeps and hands around: a letter (its newest version), one of
its versions, and one suggested edit.

Why an edit carries its own span and original words: he decides on each one apart, maybe
days later, so an edit must say exactly which characters of which version it would change,
and applying it to a text that no longer holds those characters must be refused rather
than land in the wrong place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

EditKind = Literal["spelling", "grammar", "punctuation", "word choice", "fluency"]
EDIT_KINDS: tuple[EditKind, ...] = ("spelling", "grammar", "punctuation", "word choice",
                                    "fluency")


@dataclass(frozen=True)
class Edit:
    """Replace ``text[start:end]`` (which is ``original``) with ``replacement``.
    ``source`` says who found it: ``harper``, ``quire`` or ``model``."""

    start: int
    end: int
    original: str
    replacement: str
    kind: EditKind
    reason: str
    source: str


@dataclass(frozen=True)
class Letter:
    """A letter as it stands now: its newest version's text. ``written_for`` is who he
    wrote it for ('' for no one named); ``chosen`` whether it is among the best, with
    her (or his) reason."""

    id: int
    title: str
    written_for: str
    text: str
    version: int
    created_at: float
    updated_at: float
    chosen: bool
    chosen_reason: str


@dataclass(frozen=True)
class LetterVersion:
    number: int
    text: str
    note: str
    created_at: float
