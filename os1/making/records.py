"""What she makes, as values every part of the making skills shares: the character of a
piece of music she decided on, a score she wrote, a drawing, and a made thing's versions.

Why one module of plain values: the composer, the draftsman, the store of works, the
desk, the command line and the web view each use them, and none should import another
to know what a piece is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

WorkKind = Literal["music", "drawing"]


@dataclass(frozen=True)
class Character:
    """What a piece is like, decided before a note is written: ``key`` a tonic such as
    "D" or "F#" (ABC spelling, no mode), ``mode`` "major" or "minor", ``tempo`` in
    quarter-note beats a minute, ``meter`` "4/4", "3/4" or "6/8", ``program`` a General
    MIDI instrument (0-127) and ``instrument`` its name, ``dynamics`` "p", "mf" or "f",
    ``bars`` how many bars the melody has."""

    key: str
    mode: Literal["major", "minor"]
    tempo: int
    meter: str
    program: int
    instrument: str
    dynamics: str
    bars: int

    @property
    def abc_key(self) -> str:
        """The ``K:`` field: "D" for D major, "Dm" for D minor."""
        return self.key + ("m" if self.mode == "minor" else "")


@dataclass(frozen=True)
class Score:
    """A piece as ABC notation that parsed and passed the music checks. ``attempts`` is
    how many times the model wrote it, ``repaired`` whether a check's repair was needed,
    ``checks`` what was checked, by name, each true (a score is never kept otherwise)."""

    abc: str
    character: Character
    attempts: int
    repaired: bool
    checks: tuple[str, ...]


@dataclass(frozen=True)
class Sound:
    """A score rendered: MIDI, audio (WAV, 44.1 kHz) and sheet music (SVG), and how
    long the audio lasts."""

    midi: bytes
    wav: bytes
    sheet_svg: str
    seconds: float


@dataclass(frozen=True)
class Drawing:
    """A drawing as safe SVG (already sanitised) and its PNG. ``plan`` is the
    composition she planned first, one line per element; ``elements`` how many shapes
    it has."""

    svg: str
    png: bytes
    plan: tuple[str, ...]
    elements: int
    attempts: int
    repaired: bool


@dataclass(frozen=True)
class Version:
    """One version of a made thing: the request that made it ("slower"), her words
    about it, the source (ABC or SVG text, kept in the row, so it is exported with his
    data) and the ids of its files in the artefact store, by role ("abc", "midi",
    "audio", "sheet", "svg", "png")."""

    number: int
    request: str
    her_words: str
    source: str
    files: dict[str, int] = field(default_factory=dict)
    created_at: float = 0.0
    character: Character | None = None  # music only
    plan: tuple[str, ...] = ()  # drawings only: the composition, one element a line


@dataclass(frozen=True)
class Work:
    """A piece or drawing: what it is about, the memory or moment it came from (empty
    when none), and its versions, oldest first (never rewritten)."""

    id: int
    kind: WorkKind
    title: str
    about: str
    moment: str
    created_at: float
    versions: tuple[Version, ...]

    @property
    def latest(self) -> Version:
        return self.versions[-1]
