"""``os1 talk``'s transport: the conversation engine (pipeline.py) heard from a microphone
or a file, her voice to a speaker or a file.

The engine runs on an event loop in a thread of its own; the caller's thread reads the
source and hands over each frame, waiting until it has been heard. So a file read faster
than real time waits for each reply before the next frame, and Ctrl-C still lands in the
caller's thread.

Echo: with file input or a headset her own voice never reaches the listener. With open
speakers it would, and would cut her off, so there (``barge_in=False``) the microphone is
ignored while she is speaking: you interrupt with Ctrl-C instead (``cut_off``).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from contextlib import suppress
from functools import partial
from typing import Any, TypeVar

from os1.data import read_toml
from os1.errors import OS1Error
from os1.voice.audio import Samples
from os1.voice.events import (
    CutOff,
    Done,
    Failed,
    Heard,
    Listening,
    Notice,
    Speaking,
    TurnTiming,
    Unheard,
    Unspoken,
    VoiceEvent,
)
from os1.voice.io import AudioSink, AudioSource
from os1.voice.pipeline import VoiceEngine
from os1.voice.ports import VoiceParts
from os1.voice.speaking import Replier, Spoken, in_thread
from os1.voice.spoken import SpokenRecord

T = TypeVar("T")
Notify = Callable[[str, str], None]


class SinkOutput:
    """Her voice to a sink in short frames (``speech.frame_ms``), so that a cut stops it
    within one; what was heard is what was written."""

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        frame_ms = read_toml("voice.toml")["speech"]["frame_ms"]
        self._step = max(1, int(sink.rate * frame_ms / 1000))
        self._record = SpokenRecord()

    def begin(self) -> None:
        self._record = SpokenRecord()

    async def play(self, spoken: Spoken, cut: threading.Event,
                   started: Callable[[], None]) -> None:
        await in_thread(self._play, spoken, cut, started, self._record)

    def _play(self, spoken: Spoken, cut: threading.Event, started: Callable[[], None],
              record: SpokenRecord) -> None:
        samples: Samples = spoken.samples
        for start in range(0, len(samples), self._step):
            if cut.is_set():
                return
            if start == 0:
                started()
            self.sink.write(samples[start:start + self._step])
            record.playing(spoken.text, min(1.0, (start + self._step) / len(samples)))
        if not cut.is_set():
            record.played(spoken.text)

    async def finish(self, cut: threading.Event) -> None:
        """A sink returns from ``write`` once the frame has been played."""

    def heard(self) -> str:
        return self._record.text()

    def drop(self) -> None:
        self.sink.drop()


class _Companion:
    """Her, in this process: every turn is hers to take at once."""

    def __init__(self, companion: Replier) -> None:
        self.companion = companion

    async def welcome(self) -> bool:
        return True

    async def anticipate(self, heard_so_far: str) -> None:
        with suppress(OS1Error):  # only a head start: the turn itself reports what is wrong
            await in_thread(partial(self.companion.anticipate, heard_so_far, spoken=True))

    async def answer(self, work: Callable[[Replier], Done]) -> Done:
        return await in_thread(work, self.companion)


_NOTES: dict[type, str] = {Listening: "listening", Heard: "heard", Unheard: "unheard",
                           Notice: "notice", Speaking: "speaking", CutOff: "interrupted",
                           Failed: "error", Unspoken: "error"}


class VoiceConversation:
    """A spoken conversation with ``companion``: ``run()`` listens until the source ends.
    ``notify(kind, text)`` is told what happens: listening, heard, unheard, notice,
    speaking (each sentence), interrupted, error."""

    def __init__(self, companion: Replier, parts: VoiceParts, source: AudioSource,
                 sink: AudioSink, *, barge_in: bool = True, anticipate: bool = True,
                 notify: Notify = lambda kind, text: None) -> None:
        self.source, self.sink, self.notify = source, sink, notify
        self.engine = VoiceEngine(parts, _Companion(companion), SinkOutput(sink), self._tell,
                                  realtime=source.realtime, barge_in=barge_in,
                                  anticipate=anticipate)
        self.timings: list[TurnTiming] = self.engine.timings
        self.interruptions: list[float] = self.engine.interruptions
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[str] = []  # said before the talk began
        self._lock = threading.Lock()

    def run(self) -> None:
        """Listen until the source ends, answering each turn; raises what broke."""
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="os1-voice", daemon=True)
        thread.start()
        with self._lock:
            self._loop = loop
        try:
            self._call(self._start())
            self._listen()
        finally:
            try:
                self._call(self.engine.close())
            finally:
                with self._lock:
                    self._loop = None
                loop.call_soon_threadsafe(loop.stop)
                thread.join()
                loop.close()
                self.sink.close()
        if self.engine.failure is not None:
            raise self.engine.failure

    def announce(self, text: str) -> None:
        """Say ``text`` (a reminder) between turns, never over her reply or their words;
        from any thread."""
        with self._lock:
            if self._loop is None:
                self._early.append(text)
            else:
                self._loop.call_soon_threadsafe(self.engine.say, text)

    def cut_off(self) -> bool:
        """Interrupt her if she is answering; False if she was only listening."""
        loop = self._loop
        if loop is None or not self.engine.busy:
            return False
        asyncio.run_coroutine_threadsafe(self.engine.interrupt(), loop)
        return True

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(work, self._loop).result()

    async def _start(self) -> None:
        await self.engine.start()
        with self._lock:
            early, self._early = self._early, []
        for text in early:
            self.engine.say(text)

    def _listen(self) -> None:
        try:
            for frame in self.source.frames():
                if not self._call(self._hear(frame)):
                    return
            self._call(self.engine.end())
        except KeyboardInterrupt:
            self._call(self.engine.interrupt())
            raise

    async def _hear(self, frame: Samples) -> bool:
        """False once the engine has broken down."""
        if not self.source.realtime:
            await self.engine.until_idle()
        if self.engine.failure is None:
            await self.engine.hear(frame)
        return self.engine.failure is None

    async def _tell(self, event: VoiceEvent) -> None:
        kind = _NOTES.get(type(event))
        if kind is None:
            return
        if isinstance(event, Failed | Unspoken):
            text = f"{event.error} {event.error.hint}".strip()
        else:
            text = getattr(event, "text", "")
        self.notify(kind, text)
