"""Where a request becomes a kept piece or drawing: the one path the desk, the command
line and the benchmark share, so each gets the same checks, limits and storage.

Why here and not in the composer or the draftsman: they only write and check; deciding
what to make (her own song instead of someone else's, a length within the cap), keeping
it with its files, and saying what she did are the same for both kinds of work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from os1.data import fill, read_toml
from os1.llm.base import Model
from os1.making.drawing import draftsman
from os1.making.music import character as characters
from os1.making.music import composer
from os1.making.music.revision import revised
from os1.making.music.sound import render
from os1.making.records import Drawing, Score, Sound, Version, Work
from os1.making.works import Works
from os1.storage.db import Database


@dataclass(frozen=True)
class Made:
    """A work just made or revised, and what she says about it: her sentence, then any
    note on what she did instead of what was asked (her own song, a shorter piece)."""

    work: Work
    said: str


class Studio:
    def __init__(self, db: Database, user_id: str, home: Path,
                 model: Callable[[], Model]) -> None:
        self.db = db
        self.user_id = user_id
        self.works = Works(db, user_id, home)
        self._model = model
        self.lines: dict[str, str] = read_toml("making.toml")["lines"]

    # -- music ---------------------------------------------------------------------------

    def compose(self, request: str, moment: str = "") -> Made:
        """A new piece about ``request``; nothing is kept unless it was written, checked
        and rendered whole."""
        about, notes = self._own_subject(request)
        bars = characters.requested_bars(request)
        if bars is not None and bars > characters.MAX_BARS:
            notes.append(fill(self.lines["capped"], bars=str(characters.MAX_BARS)))
            bars = characters.MAX_BARS
        character = characters.character_for(about, her_mood(self.db, self.user_id), bars)
        model = self._model()
        score = composer.compose(model, about, character)
        sound = render(score)
        words = composer.her_words(model, about, character)
        work = self.works.add("music", about, _piece_version(request, words, score),
                              _piece_files(score, sound), moment)
        return Made(work, _said(words, notes))

    def revise_piece(self, work_id: int, request: str) -> Made:
        """The piece again, changed as asked ("slower"); its earlier versions stay."""
        work = self.works.get(work_id)
        old = work.latest.character
        if work.kind != "music" or old is None:
            return Made(work, fill(self.lines["not_music"], title=work.title))
        character = revised(old, request)
        if character is None:
            return Made(work, fill(self.lines["which_change"], title=work.title))
        model = self._model()
        score = composer.compose(model, work.about, character)
        sound = render(score)
        words = composer.her_words(model, work.about, character)
        work = self.works.revise(work_id, _piece_version(request, words, score),
                                 _piece_files(score, sound))
        return Made(work, words)

    # -- drawing -------------------------------------------------------------------------

    def draw(self, request: str, moment: str = "") -> Made:
        about, notes = self._own_subject(request)
        model = self._model()
        drawing = draftsman.draw(model, about)
        words = draftsman.her_words(model, about, drawing.plan)
        work = self.works.add("drawing", about, _drawing_version(request, words, drawing),
                              {"svg": drawing.svg.encode("utf-8"), "png": drawing.png},
                              moment)
        return Made(work, _said(words, notes))

    def revise_drawing(self, work_id: int, request: str) -> Made:
        work = self.works.get(work_id)
        if work.kind != "drawing":
            return Made(work, fill(self.lines["not_drawing"], title=work.title))
        latest = work.latest
        before = Drawing(latest.source, b"", latest.plan, 0, 0, False)
        model = self._model()
        drawing = draftsman.revise(model, before, work.about, request)
        words = draftsman.her_words(model, work.about, drawing.plan)
        work = self.works.revise(work_id, _drawing_version(request, words, drawing),
                                 {"svg": drawing.svg.encode("utf-8"), "png": drawing.png})
        return Made(work, words)

    def _own_subject(self, request: str) -> tuple[str, list[str]]:
        """What to make it about, and a note when he asked for someone else's song or
        lyrics: she makes her own about what it meant to him instead, and says so."""
        borrowed = borrowed_work(request)
        if borrowed is None:
            return request, []
        return borrowed, [self.lines["own_instead"]]


def borrowed_work(request: str) -> str | None:
    """The subject left when ``request`` asks for an existing song or its lyrics ("play
    Yesterday by the Beatles" -> "Yesterday"), else None."""
    for pattern in read_toml("making.toml")["borrowed"]["patterns"]:
        found = re.search(pattern, request, re.IGNORECASE)
        if found is not None:
            subject = " ".join(found.group("subject").split()).strip(" \"'“”.,!?")
            return subject or "a song of my own"
    return None


def her_mood(db: Database, user_id: str) -> tuple[float, float] | None:
    """Her mood with this person (valence, arousal), or None before they have talked."""
    row = db.execute("SELECT valence, arousal FROM moods WHERE user_id = ?",
                     (user_id,)).fetchone()
    return None if row is None else (float(row[0]), float(row[1]))


def _said(words: str, notes: list[str]) -> str:
    return " ".join([words, *notes])


def _piece_version(request: str, words: str, score: Score) -> Version:
    return Version(0, request, words, score.abc, character=score.character)


def _piece_files(score: Score, sound: Sound) -> dict[str, bytes]:
    return {"abc": score.abc.encode("utf-8"), "midi": sound.midi, "audio": sound.wav,
            "sheet": sound.sheet_svg.encode("utf-8")}


def _drawing_version(request: str, words: str, drawing: Drawing) -> Version:
    return replace(Version(0, request, words, drawing.svg), plan=drawing.plan)
