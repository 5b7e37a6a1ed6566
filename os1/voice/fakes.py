"""In-process stand-ins for the voice engines, for fast unit tests of the pipeline.

Speech is a tone (``EnergyVAD`` hears it), her voice is a tone as long as the words would
take to say, and the transcriber returns scripted text, recording what it was given.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from os1.voice.audio import HEARING_RATE, Audio


def tone(seconds: float, rate: int = HEARING_RATE, amplitude: float = 0.3,
         pitch: float = 220.0) -> Audio:
    t = np.arange(int(seconds * rate)) / rate
    return Audio((amplitude * np.sin(2 * np.pi * pitch * t)).astype(np.float32), rate)


def quiet(seconds: float, rate: int = HEARING_RATE) -> Audio:
    return Audio.silence(seconds, rate)


@dataclass
class ToneTTS:
    """Each word takes ``word_s`` seconds to say."""

    word_s: float = 0.05
    rate: int = 8000
    spoken: list[str] = field(default_factory=list)

    def synthesize(self, text: str) -> Audio:
        self.spoken.append(text)
        return tone(self.word_s * len(text.split()), self.rate, pitch=440.0)


@dataclass
class ScriptedSTT:
    """Returns its texts in order (then ``default``); keeps the audio it was asked about."""

    texts: deque[str] = field(default_factory=deque)
    default: str = "hello"
    heard: list[Audio] = field(default_factory=list)

    def transcribe(self, audio: Audio, prompt: str = "") -> str:
        self.heard.append(audio)
        return self.texts.popleft() if self.texts else self.default
