"""She composes with the real model, the real tools play it, and a revision changes what
was asked and keeps the first version. Two pieces and a revision only: each costs half a
minute or more of CPU."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile
from music21 import converter, note

from os1.llm.llama import LlamaModel
from os1.making.music.character import character_for
from os1.making.music.composer import compose, her_words
from os1.making.music.score_check import bar_eighths, check, music21_key
from os1.making.music.sound import render
from os1.making.records import Character
from os1.making.studio import Studio
from os1.storage.db import Database

pytestmark = pytest.mark.integration


def assert_heard(abc: str, wav: bytes, character: Character) -> None:
    """The score is in the key it declares and ends home; the audio is not silent and
    lasts as long as its bars at its tempo."""
    assert check(abc, character) == []
    notes = list(converter.parse(abc, format="abc").recurse().getElementsByClass(note.Note))
    key = music21_key(character)
    scale = {p.pitchClass for p in key.pitches}
    assert len(notes) >= character.bars
    assert all(n.pitch.pitchClass in scale for n in notes)
    assert notes[-1].pitch.pitchClass == key.tonic.pitchClass
    samples, rate = soundfile.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    assert float(np.sqrt(np.mean(np.square(samples)))) > 0.01
    beats = float(bar_eighths(character.meter)) / 2
    assert samples.shape[0] / rate == pytest.approx(
        character.bars * beats * 60 / character.tempo, rel=0.25)


def test_she_composes_a_happy_lively_piece(real_model: LlamaModel) -> None:
    request = "a happy lively song about our day at the beach"
    character = character_for(request)
    assert character.mode == "major" and character.tempo >= 120
    score = compose(real_model, request, character)
    assert_heard(score.abc, render(score).wav, character)
    words = her_words(real_model, request, character)
    assert words and words[-1] in ".!?"


def test_a_sad_piece_made_happier_and_faster_keeps_the_first(real_model: LlamaModel,
                                                              tmp_path: Path) -> None:
    db = Database.open(tmp_path / "os1.db")
    studio = Studio(db, "local", tmp_path, lambda: real_model)
    made = studio.compose("a slow sad piece about a rainy goodbye")
    first = made.work.latest
    assert first.character is not None
    assert first.character.mode == "minor" and first.character.tempo <= 80
    assert made.said and made.said[-1] in ".!?"

    def heard(number: int, character: Character) -> None:
        abc = studio.works.file(made.work.id, number, "abc").path
        audio = studio.works.file(made.work.id, number, "audio").path
        assert abc is not None and audio is not None
        assert_heard(abc.read_text(encoding="utf-8"), audio.read_bytes(), character)

    heard(1, first.character)
    again = studio.revise_piece(made.work.id, "happier, and a little faster")
    assert [v.number for v in again.work.versions] == [1, 2]
    kept, changed = again.work.versions[0].character, again.work.latest.character
    assert kept == first.character and changed is not None
    assert changed.mode == "major" and changed.tempo > first.character.tempo
    assert changed.key == first.character.key  # the parallel key: the same home note
    heard(2, changed)
    heard(1, first.character)  # the first version is still whole
    db.close()
