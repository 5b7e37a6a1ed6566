"""She composes two pieces with the real model, and the real tools play them."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile
from music21 import converter, note

from os1.llm.llama import LlamaModel
from os1.making.music.character import character_for
from os1.making.music.composer import compose, her_words
from os1.making.music.score_check import bar_eighths, check, music21_key
from os1.making.music.sound import render

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("request_", "mode", "fast"), [
    ("a happy lively song about our day at the beach", "major", True),
    ("a slow sad piece about a rainy goodbye", "minor", False),
])
def test_she_composes_a_piece_as_asked(real_model: LlamaModel, request_: str, mode: str,
                                       fast: bool) -> None:
    character = character_for(request_)
    assert character.mode == mode
    assert character.tempo >= 120 if fast else character.tempo <= 80
    score = compose(real_model, request_, character)
    assert check(score.abc, character) == []
    notes = list(converter.parse(score.abc, format="abc").recurse()
                 .getElementsByClass(note.Note))
    key = music21_key(character)
    scale = {p.pitchClass for p in key.pitches}
    assert len(notes) >= character.bars
    assert all(n.pitch.pitchClass in scale for n in notes)
    assert notes[-1].pitch.pitchClass == key.tonic.pitchClass
    sound = render(score)
    samples, _ = soundfile.read(io.BytesIO(sound.wav), dtype="float32", always_2d=True)
    assert float(np.sqrt(np.mean(np.square(samples)))) > 0.01
    beats = float(bar_eighths(character.meter)) / 2
    assert sound.seconds == pytest.approx(character.bars * beats * 60 / character.tempo,
                                          rel=0.25)
    words = her_words(real_model, request_, character)
    assert words and words[-1] in ".!?"
