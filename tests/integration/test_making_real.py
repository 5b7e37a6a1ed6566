"""What she makes, kept, with the real parts: the bundled model writes the piece, music21
checks it, abc2midi, FluidSynth and abcm2ps render it, and a revision ("faster") makes a
second version that changed what was asked while the first stays as it was."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile

from os1.config import Settings
from os1.llm.llama import LlamaModel
from os1.making.music.score_check import check
from os1.making.studio import Studio
from os1.storage.artefacts import ArtefactStore
from os1.storage.db import Database

pytestmark = pytest.mark.integration


def test_a_piece_is_kept_and_a_revision_adds_a_version(real_model: LlamaModel, db: Database,
                                                       settings: Settings) -> None:
    studio = Studio(db, "local", settings.home, lambda: real_model)
    made = studio.compose("a slow, sad 8 bar piece about a rainy goodbye")
    first = made.work.latest
    assert made.work.kind == "music" and first.character is not None
    assert first.character.mode == "minor" and first.character.bars == 8
    assert not check(first.source, first.character), "what is kept passes every check"
    assert made.said.strip() and first.her_words in made.said
    assert set(first.files) == {"abc", "midi", "audio", "sheet"}
    wav = studio.works.file(made.work.id, 1, "audio").path
    assert wav is not None
    samples, rate = soundfile.read(io.BytesIO(wav.read_bytes()), always_2d=True)
    assert rate == 44100 and float(np.sqrt(np.mean(np.square(samples)))) > 0.01
    sheet = studio.works.file(made.work.id, 1, "sheet").path
    assert sheet is not None and "<svg" in sheet.read_text(encoding="utf-8")

    faster = studio.revise_piece(made.work.id, "faster")
    assert [v.number for v in faster.work.versions] == [1, 2]
    second = faster.work.latest
    assert second.character is not None
    assert second.character.tempo > first.character.tempo
    assert second.character.mode == first.character.mode, "only what was asked changed"
    assert faster.work.versions[0] == first, "the first version is as it was"
    assert not check(second.source, second.character)
    assert len(ArtefactStore(db, "local", settings.home).list("made")) == 8
