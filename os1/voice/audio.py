"""Mono float32 audio and the few conversions the pipeline needs.

Everything she hears is 16 kHz mono (what Silero VAD and Whisper want); what she says stays
at her voice's own rate. Files of any format and rate are decoded and resampled by PyAV
(which faster-whisper already brings), so a wrong sample rate is converted, not refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from os1.errors import OS1Error

HEARING_RATE = 16_000
Samples = npt.NDArray[np.float32]


class AudioError(OS1Error):
    """Audio that can't be read, written or played."""


@dataclass(frozen=True)
class Audio:
    samples: Samples
    rate: int

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate

    @staticmethod
    def silence(seconds: float, rate: int) -> Audio:
        return Audio(np.zeros(round(seconds * rate), np.float32), rate)

    def then(self, other: Audio) -> Audio:
        """This followed by ``other`` (resampled to this rate if need be)."""
        return Audio(np.concatenate([self.samples, resample(other, self.rate).samples]),
                     self.rate)


def resample(audio: Audio, rate: int) -> Audio:
    """Linear interpolation: plenty for speech into a VAD or out to a speaker, and no
    extra dependency. Returns ``audio`` itself when the rate already matches."""
    if audio.rate == rate or len(audio.samples) == 0:
        return audio if audio.rate == rate else Audio(audio.samples, rate)
    count = round(len(audio.samples) * rate / audio.rate)
    old = np.arange(len(audio.samples)) / audio.rate
    new = np.arange(count) / rate
    return Audio(np.interp(new, old, audio.samples).astype(np.float32), rate)


def read_audio(path: Path, rate: int = HEARING_RATE) -> Audio:
    """Any audio file as mono at ``rate``; a clear AudioError for anything unreadable."""
    if not path.is_file():
        raise AudioError(f"There is no audio file at {path}.", "Check the path.")
    if path.stat().st_size == 0:
        raise AudioError(f"{path} is empty.", "Record something first.")
    try:
        from faster_whisper.audio import decode_audio
    except ImportError as exc:
        raise missing_voice_extra("faster-whisper") from exc
    try:
        samples = decode_audio(str(path), sampling_rate=rate)
    except Exception as exc:  # PyAV raises many kinds for a damaged file
        raise AudioError(f"{path} is not audio that can be read ({exc.__class__.__name__}: "
                         f"{exc}).", "Use a WAV, FLAC, MP3 or OGG file.") from exc
    if len(samples) == 0:
        raise AudioError(f"{path} holds no audio samples.", "Use a file with sound in it.")
    return Audio(np.asarray(samples, np.float32), rate)


def write_wav(path: Path, audio: Audio) -> None:
    import soundfile

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(path), np.clip(audio.samples, -1.0, 1.0), audio.rate,
                        subtype="PCM_16")
    except (OSError, RuntimeError) as exc:
        raise AudioError(f"Could not write {path}: {exc}") from exc


def rms(samples: Samples) -> float:
    return float(np.sqrt(np.mean(np.square(samples)))) if len(samples) else 0.0


def missing_voice_extra(package: str) -> AudioError:
    return AudioError(f"Voice needs the {package} package, which is not installed.",
                      'Install the voice extra: pip install -e ".[voice]" (./start does it).')
