"""What the conversation engine (pipeline.py) needs from a transport: her (who answers),
an output (where her voice goes), and the engines that hear and speak.

A transport is these and nothing more: ``os1 talk`` gives a companion, a sound card or a
file; ``/api/voice`` gives the turn queue of a server and a WebSocket. The engine never
asks which.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from os1.voice.events import Done, VoiceEvent
from os1.voice.speaking import Replier, Spoken
from os1.voice.stt import SpeechToText
from os1.voice.tts import TextToSpeech
from os1.voice.vad import VoiceActivity

Tell = Callable[[VoiceEvent], Awaitable[None]]


@dataclass
class VoiceParts:
    vad: VoiceActivity
    stt: SpeechToText
    tts: TextToSpeech


class Her(Protocol):
    """Who answers, as the transport reaches her."""

    async def welcome(self) -> bool:
        """Speech began: may it be transcribed (a live login, within its budget)?"""
        ...

    async def anticipate(self, heard_so_far: str) -> None:
        """Evaluate her prompt ahead if she can now; never raises."""
        ...

    async def answer(self, work: Callable[[Replier], Done]) -> Done:
        """``work(her)`` in a worker thread once it is this person's turn; waits for the
        thread even when cancelled. Raises OS1Error when she can't answer now."""
        ...


class Output(Protocol):
    """Where her voice goes, and how much of it has been heard."""

    def begin(self) -> None:
        """A new reply or aside: nothing of it heard yet."""
        ...

    async def play(self, spoken: Spoken, cut: threading.Event,
                   started: Callable[[], None]) -> None:
        """Play ``spoken``, calling ``started`` before its first frame; return once it
        is out, or within a frame of ``cut`` being set."""
        ...

    async def finish(self, cut: threading.Event) -> None:
        """Return once all that was played has been heard (or ``cut`` is set)."""
        ...

    def heard(self) -> str:
        """What of this reply has been heard so far."""
        ...

    def drop(self) -> None:
        """She was cut off: anything buffered is not played."""
        ...
