"""Rendering a score with the real Debian tools: abc2midi, fluidsynth, abcm2ps."""

from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile

from os1.making.errors import RendererMissing, RenderTimeout
from os1.making.music import sound
from os1.making.music.sound import render
from os1.making.records import Character, Score

PIECE = Character(key="G", mode="major", tempo=120, meter="4/4", program=24,
                  instrument="acoustic guitar", dynamics="mf", bars=8)
ABC = ("X:1\nT:Test\nM:4/4\nL:1/8\nQ:1/4=120\nK:G\n%%MIDI program 24\n"
       '!mf!"G"G2 B2 d2 B2 | "C"c2 e2 "G"d4 | "D"A2 F2 D2 F2 | "G"G2 B2 d4 |\n'
       '"G"B2 d2 g2 d2 | "C"e2 c2 "D"A4 | "G"B2 G2 "D"A2 F2 | "G"G8 |]\n')
SCORE = Score(ABC, PIECE, 1, False, ())
EXPECTED_S = 8 * 4 * 60 / 120


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where render's temporary folder goes, to see that nothing is left behind."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_tune_renders_to_audible_audio_of_its_length_and_a_sheet(private_tmp: Path) -> None:
    out = render(SCORE)
    samples, rate = soundfile.read(io.BytesIO(out.wav), dtype="float32", always_2d=True)
    assert rate == 44100
    assert float(np.sqrt(np.mean(np.square(samples)))) > 0.01
    assert out.seconds == pytest.approx(EXPECTED_S, rel=0.25)
    assert out.seconds == pytest.approx(samples.shape[0] / rate)
    assert out.midi.startswith(b"MThd")
    assert "<svg" in out.sheet_svg
    assert list(private_tmp.iterdir()) == []


def test_a_missing_tool_names_its_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(shutil, "which",
                        lambda name: None if name == "abc2midi" else real(name))
    with pytest.raises(RendererMissing, match=r"abc2midi is missing: sudo apt install abcmidi"):
        render(SCORE)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(shutil, "which", real)
    with pytest.raises(RendererMissing, match="apt install"):
        render(SCORE)


def test_a_missing_soundfont_names_its_package(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setattr(sound, "SOUNDFONTS", (tmp_path / "none.sf3",))
    with pytest.raises(RendererMissing, match="fluid-soundfont-gm"):
        render(SCORE)


def test_rendering_over_budget_is_stopped_and_leaves_nothing(
        private_tmp: Path, tmp_path_factory: pytest.TempPathFactory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A synthesiser that hangs is stopped at the budget (a real render on a warm cache
    can finish inside any budget a test could name, so the hang is made sure of)."""
    hang = tmp_path_factory.mktemp("bin") / "fluidsynth"
    hang.write_text("#!/bin/sh\nexec sleep 60\n", encoding="utf-8")
    hang.chmod(0o755)
    real = shutil.which
    monkeypatch.setattr(shutil, "which",
                        lambda name: str(hang) if name == "fluidsynth" else real(name))
    with pytest.raises(RenderTimeout, match="fluidsynth ran over"):
        render(SCORE, budget_s=3)
    assert list(private_tmp.iterdir()) == []
    with pytest.raises(RenderTimeout, match="before abc2midi"):
        render(SCORE, budget_s=0)
