"""Her voice sent to a browser: paced by an estimate of where its playback is, so that
cutting her off stops her at once and what she got to say can be told.

The page plays each binary frame right after the one before (or as it arrives, if
playback ran dry), so the server can follow its playback on its own clock: ``Timeline``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from os1.voice.speaking import Spoken
from os1.voice.spoken import SpokenRecord

LEAD_S = 1.0                     # her voice is sent at most this far ahead of playback
AUDIO_CHUNK_S = 0.25             # her voice goes out in binary frames this long
POLL_S = 0.02


@dataclass
class Timeline:
    """Her audio as the client plays it: each frame right after the one before, or when it
    arrives if playback had run dry."""

    end: float = 0.0
    _frames: list[tuple[int, str, float, float, float, float]] = field(default_factory=list)

    def add(self, number: int, sentence: str, seconds: float, upto: float, of: float,
            now: float) -> None:
        """A frame of ``seconds`` of sentence ``number``, ending ``upto`` seconds into its
        ``of``."""
        start = max(self.end, now)
        self.end = start + seconds
        self._frames.append((number, sentence, start, seconds, upto - seconds, of))

    def ahead(self, now: float) -> float:
        return max(0.0, self.end - now)

    def said(self, now: float) -> str:
        record = SpokenRecord()
        heard: dict[int, tuple[str, float]] = {}
        for number, sentence, start, seconds, before, whole in self._frames:
            fraction = heard.get(number, (sentence, 0.0))[1]
            if now > start:
                played = before + min(seconds, now - start)
                fraction = max(fraction, played / whole if whole else 1.0)
            heard[number] = (sentence, fraction)
        for number in sorted(heard):
            sentence, fraction = heard[number]
            if fraction < 1.0:
                if fraction > 0:
                    record.playing(sentence, fraction)
                break
            record.played(sentence)
        return record.text()


class SocketOutput:
    """The engine's output on a WebSocket: an ``audio`` header per sentence, then its
    int16 samples in frames of ``AUDIO_CHUNK_S``, never more than ``LEAD_S`` ahead of
    the client's playback as ``clock`` estimates it."""

    def __init__(self, send_json: Callable[[dict[str, Any]], Awaitable[None]],
                 send_bytes: Callable[[bytes], Awaitable[None]],
                 clock: Callable[[], float]) -> None:
        self._send_json, self._send_bytes, self._clock = send_json, send_bytes, clock
        self.timeline = Timeline()

    def begin(self) -> None:
        self.timeline = Timeline()

    async def play(self, spoken: Spoken, cut: threading.Event,
                   started: Callable[[], None]) -> None:
        pcm = (np.clip(spoken.samples, -1.0, 1.0) * 32767).astype("<i2")
        rate, timeline = spoken.rate, self.timeline
        step = max(1, int(rate * AUDIO_CHUNK_S))
        await self._send_json({"type": "audio", "rate": rate, "samples": len(pcm)})
        whole = len(pcm) / rate
        for start in range(0, len(pcm), step):
            while not cut.is_set() and timeline.ahead(self._clock()) > LEAD_S:
                await asyncio.sleep(POLL_S)
            if cut.is_set():
                return
            if start == 0:
                started()
            part = pcm[start:start + step]
            timeline.add(spoken.number, spoken.text, len(part) / rate,
                         (start + len(part)) / rate, whole, self._clock())
            await self._send_bytes(part.tobytes())

    async def finish(self, cut: threading.Event) -> None:
        while not cut.is_set() and self._clock() < self.timeline.end:
            await asyncio.sleep(POLL_S)

    def heard(self) -> str:
        return self.timeline.said(self._clock())

    def drop(self) -> None:
        """Nothing is sent ahead beyond ``LEAD_S``: the page drops what it holds."""
