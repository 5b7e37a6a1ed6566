"""When the user starts speaking, pauses, and has finished: counted in audio, not clock time.

Counting frames rather than seconds keeps a file fed faster than real time exact, and lets
unit tests feed a minute of audio in milliseconds. A pause hands the speech so far to
speech-to-text at once (``Chunk``), so when the turn ends only its tail is left to
transcribe. How long a silence ends a turn depends on whether what was said sounds finished:
"I went to the…" waits longer than "I went to the shop."
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from os1.data import read_toml
from os1.voice.audio import HEARING_RATE, Audio, Samples
from os1.voice.vad import FRAME_SECONDS


@dataclass(frozen=True)
class TurnRules:
    start_probability: float
    stop_probability: float
    start_s: float
    pre_roll_s: float
    pause_s: float
    end_s: float
    unfinished_end_s: float
    min_speech_s: float
    max_chunk_s: float

    @staticmethod
    def load() -> TurnRules:
        return TurnRules(**read_toml("voice.toml")["turns"])


def frames(seconds: float) -> int:
    return max(1, round(seconds / FRAME_SECONDS))


@dataclass(frozen=True)
class SpeechStarted:
    """Speech began (the first frame of it is ``frame`` frames into the stream)."""
    frame: int


@dataclass(frozen=True)
class Chunk:
    """Speech up to a pause: ready for speech-to-text."""
    audio: Audio


@dataclass(frozen=True)
class TurnEnded:
    """The user has finished; ``frame`` is where their speech stopped."""
    frame: int


@dataclass(frozen=True)
class TurnDropped:
    """A sound too short to be speech (a click, a cough): forgotten, not answered."""


Event = SpeechStarted | Chunk | TurnEnded | TurnDropped


class TurnDetector:
    def __init__(self, rules: TurnRules,
                 sounds_unfinished: Callable[[], bool] = lambda: False) -> None:
        self.rules = rules
        self.sounds_unfinished = sounds_unfinished
        self._pre_roll: deque[Samples] = deque(maxlen=frames(rules.pre_roll_s))
        self._chunk: list[Samples] = []
        self._frame = 0
        self._onset = 0
        self._silence = 0
        self._speech = 0
        self._last_speech = 0
        self.speaking = False

    @property
    def speech_frames(self) -> int:
        """Frames of speech in the turn so far (0 when nobody is speaking)."""
        return self._speech if self.speaking else 0

    def push(self, frame: Samples, probability: float) -> list[Event]:
        self._frame += 1
        events = self._idle(frame, probability) if not self.speaking \
            else self._in_speech(frame, probability)
        self._pre_roll.append(frame)
        return events

    def _idle(self, frame: Samples, probability: float) -> list[Event]:
        self._onset = self._onset + 1 if probability >= self.rules.start_probability else 0
        if self._onset < frames(self.rules.start_s):
            return []
        self.speaking = True
        self._chunk = [*self._pre_roll, frame]
        self._speech, self._silence = self._onset, 0
        self._last_speech = self._frame
        return [SpeechStarted(self._frame - self._onset + 1)]

    def _in_speech(self, frame: Samples, probability: float) -> list[Event]:
        rules = self.rules
        if probability < rules.stop_probability:
            self._silence += 1
        else:
            if self._silence >= frames(rules.pause_s) and not self._chunk:
                self._chunk = list(self._pre_roll)
            self._silence = 0
            self._speech += 1
            self._last_speech = self._frame
        if self._silence == 0 or self._chunk:
            self._chunk.append(frame)
        events: list[Event] = []
        if self._chunk and (self._silence == frames(rules.pause_s)
                            or len(self._chunk) >= frames(rules.max_chunk_s)):
            events.append(self._take_chunk())
        if self._silence >= self._end_frames():
            events.append(self._end())
        return events

    def _end_frames(self) -> int:
        if self._silence < frames(self.rules.end_s):
            return frames(self.rules.end_s)
        unfinished = self.sounds_unfinished()
        return frames(self.rules.unfinished_end_s if unfinished else self.rules.end_s)

    def _take_chunk(self) -> Chunk:
        audio = Audio(np.concatenate(self._chunk), HEARING_RATE)
        self._chunk = []
        return Chunk(audio)

    def _end(self) -> Event:
        self.speaking = False
        self._onset = 0
        if self._speech < frames(self.rules.min_speech_s):
            self._chunk = []
            return TurnDropped()
        return TurnEnded(self._last_speech)

    def flush(self) -> list[Event]:
        """The stream ended: whatever was being said counts as finished."""
        if not self.speaking:
            return []
        events: list[Event] = [self._take_chunk()] if self._chunk else []
        return [*events, self._end()]
