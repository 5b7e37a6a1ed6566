"""A spoken conversation: frames flow through small stages, each in its own thread.

    source ─frames─▶ listener (VAD, turn detector) ─chunks─▶ transcriber (Whisper, while
    you talk) ─turn─▶ responder (the companion's turn, cut into sentences) ─sentences─▶
    voice (TTS) ─audio─▶ output (sink, one frame at a time)

An interruption is a system event, never queued behind data: the listener bumps the
generation number, which every stage checks before each item and the output before each
frame, and empties the queues. So her voice stops within one output frame, text-to-speech
and generation stop at their next step, and the reply is stored as far as it was heard.

Echo: with file input or a headset her own voice never reaches the listener. With open
speakers it would, and would cut her off, so there (``barge_in=False``) the listener ignores
the microphone while she is speaking: you interrupt with Ctrl-C instead (``cut_off``).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from os1.data import read_toml
from os1.errors import OS1Error
from os1.mind.companion import Turn
from os1.voice.audio import Samples
from os1.voice.io import AudioSink, AudioSource
from os1.voice.sentences import SentenceSplitter
from os1.voice.spoken import SpokenRecord
from os1.voice.stt import SpeechToText, StreamingTranscriber
from os1.voice.tts import TextToSpeech
from os1.voice.turn_taking import (
    Chunk,
    Event,
    SpeechStarted,
    TurnDetector,
    TurnDropped,
    TurnEnded,
    TurnRules,
    frames,
)
from os1.voice.vad import VoiceActivity


class Replier(Protocol):
    def reply(self, text: str, *, spoken: bool = False) -> Turn:
        ...

    def anticipate(self, text: str, *, spoken: bool = False) -> None:
        ...


@dataclass
class TurnTiming:
    """Wall-clock marks (time.monotonic) of one spoken exchange, for the latency benchmark."""

    speech_end: float = 0.0      # the user's last speech frame arrived
    turn_end: float = 0.0        # the detector decided they had finished
    taken: float = 0.0           # the responder took the turn (it may have been busy
                                 # evaluating the prompt ahead: ``anticipate``)
    transcribed: float = 0.0     # the last chunk's text was ready
    first_token: float = 0.0     # the first piece out of the persona guard
    first_sentence: float = 0.0  # the first speakable piece was complete
    first_synth: float = 0.0     # its audio was ready
    first_audio: float = 0.0     # its first frame went to the output
    heard: str = ""
    said: str = ""
    interrupted: bool = False


Notify = Callable[[str, str], None]


@dataclass
class VoiceParts:
    vad: VoiceActivity
    stt: SpeechToText
    tts: TextToSpeech


@dataclass
class _Sentence:
    generation: int
    text: str
    audio: Samples | None = None
    aside: bool = False  # said between turns (a reminder): not part of any reply


@dataclass(frozen=True)
class _Expected:
    """What the user has said so far: her prompt can be evaluated before they finish."""

    text: str


_END = "\x00end"


@dataclass
class VoiceConversation:
    companion: Replier
    parts: VoiceParts
    source: AudioSource
    sink: AudioSink
    barge_in: bool = True
    anticipate: bool = True
    notify: Notify = lambda kind, text: None
    timings: list[TurnTiming] = field(default_factory=list)

    def __post_init__(self) -> None:
        settings = read_toml("voice.toml")
        self.rules = TurnRules.load()
        self._barge_frames = frames(settings["barge_in"]["min_speech_s"])
        self._frame_samples = int(self.sink.rate * settings["speech"]["frame_ms"] / 1000)
        self._first_clause = int(settings["speech"]["first_clause_words"])
        self._generation = 0
        self._busy = threading.Event()       # from a finished user turn to her last frame
        self._turns: queue.Queue[tuple[StreamingTranscriber, TurnTiming] | _Expected | None] \
            = queue.Queue()
        self._sentences: queue.Queue[_Sentence | None] = queue.Queue()
        self._audio: queue.Queue[_Sentence | None] = queue.Queue()
        self._played: dict[int, threading.Event] = {}
        self._spoken = SpokenRecord()
        self._error: BaseException | None = None
        self._transcriber: StreamingTranscriber | None = None
        self._last_speech = 0.0  # when the last frame the VAD called speech arrived
        self.interruptions: list[float] = []

    # -- the listener (the caller's thread) ------------------------------------------

    def run(self) -> None:
        """Listen until the source ends, answering each turn; raises what broke."""
        threads = [threading.Thread(target=self._guarded, args=(target,), daemon=True,
                                    name=f"os1-{target.__name__.strip('_')}")
                   for target in (self._respond, self._voice, self._output)]
        for thread in threads:
            thread.start()
        self._expect("")
        try:
            self._listen()
        except KeyboardInterrupt:
            self.interrupt()
            raise
        finally:
            self._turns.put(None)
            threads[0].join()
            self._sentences.put(None)
            threads[1].join()
            self._audio.put(None)
            threads[2].join()
            self.sink.close()
        if self._error is not None:
            raise self._error

    def announce(self, text: str) -> None:
        """Say ``text`` (a reminder) between turns, never over her reply: called from
        another thread, it waits until she has finished speaking."""
        while self._busy.is_set():
            time.sleep(0.05)
        self._sentences.put(_Sentence(self._generation, text, aside=True))

    def _listen(self) -> None:
        detector = TurnDetector(self.rules, lambda: self._transcriber is not None
                                and self._transcriber.sounds_unfinished(
                                    wait=not self.source.realtime))
        cut = False
        for frame in self.source.frames():
            if self._error is not None:
                return
            if not self.source.realtime:
                self._wait_until_idle()
            elif self._busy.is_set() and not self.barge_in:
                continue
            probability = self.parts.vad.speech_probability(frame)
            if probability >= self.rules.stop_probability:
                self._last_speech = time.monotonic()
            for event in detector.push(frame, probability):
                cut = cut and not isinstance(event, SpeechStarted)
                self._on(event)
            if not cut and self._busy.is_set() and self.barge_in \
                    and detector.speech_frames >= self._barge_frames:
                self.interrupt()
                cut = True
        for event in detector.flush():
            self._on(event)
        self._wait_until_idle()

    def _on(self, event: Event) -> None:
        """One event from the turn detector: start, feed, hand over or drop a transcript."""
        if isinstance(event, SpeechStarted):
            self._transcriber = StreamingTranscriber(self.parts.stt, self._expect)
            self.notify("listening", "")
            return
        transcriber = self._transcriber
        if transcriber is None:
            return
        if isinstance(event, Chunk):
            transcriber.add(event.audio)
        elif isinstance(event, TurnEnded):
            self._hand_over(transcriber, self._last_speech)
            self._transcriber = None
        elif isinstance(event, TurnDropped):
            transcriber.abandon()
            self._transcriber = None

    def _hand_over(self, transcriber: StreamingTranscriber, last_speech: float) -> None:
        self._busy.set()
        self._turns.put((transcriber, TurnTiming(speech_end=last_speech,
                                                 turn_end=time.monotonic())))

    def _expect(self, heard_so_far: str) -> None:
        """Evaluate her prompt ahead: while she listens (nothing heard yet), and again as
        the user's words come. Live speech only: with a file read faster than real time
        there is no time to win, and the work would only delay the turns behind it."""
        if self.anticipate and self.source.realtime:
            self._turns.put(_Expected(heard_so_far))

    def _wait_until_idle(self) -> None:
        while (self._busy.is_set() or not self._turns.empty()) and self._error is None:
            time.sleep(0.01)

    def cut_off(self) -> bool:
        """Interrupt her if she is answering; False if she was only listening."""
        if not self._busy.is_set():
            return False
        self.interrupt()
        return True

    def interrupt(self) -> None:
        """Stop her now: the output before its next frame, the rest at their next step."""
        self._generation += 1
        self.interruptions.append(time.monotonic())
        for pending in (self._sentences, self._audio):
            while True:
                try:
                    pending.get_nowait()
                except queue.Empty:
                    break
        self.sink.drop()
        self.notify("interrupted", "")

    # -- the stages behind it --------------------------------------------------------

    def _guarded(self, stage: Callable[[], None]) -> None:
        try:
            stage()
        except BaseException as exc:
            self._error = exc
            self._busy.clear()

    def _respond(self) -> None:
        while (item := self._turns.get()) is not None:
            if isinstance(item, _Expected):
                self._prepare(item.text)
                continue
            transcriber, timing = item
            try:
                self._answer(transcriber, timing)
            except OS1Error as error:
                self.notify("error", f"{error} {error.hint}".strip())
            finally:
                self._busy.clear()
            self._expect("")  # ready for the next turn before it starts

    def _prepare(self, heard_so_far: str) -> None:
        """Evaluate her prompt ahead, unless newer words or a finished turn are waiting."""
        if not self._turns.empty():
            return
        with suppress(OS1Error):  # only a head start: the turn itself reports what is wrong
            self.companion.anticipate(heard_so_far, spoken=True)

    def _answer(self, transcriber: StreamingTranscriber, timing: TurnTiming) -> None:
        timing.taken = time.monotonic()
        heard = transcriber.finish()
        timing.transcribed = time.monotonic()
        if not heard.strip():
            self.notify("unheard", "")
            return
        timing.heard = heard
        self.notify("heard", heard)
        self.timings.append(timing)
        generation = self._generation
        self._spoken = SpokenRecord()
        self._played[generation] = threading.Event()
        turn = self.companion.reply(heard, spoken=True)
        if turn.notice:
            self.notify("notice", turn.notice)
        try:
            self._speak(turn, timing, generation)
        finally:
            timing.interrupted = generation != self._generation
            timing.said = self._spoken.text()
            turn.settle(timing.said, timing.interrupted)
            self._played.pop(generation, None)

    def _speak(self, turn: Turn, timing: TurnTiming, generation: int) -> None:
        """Her reply, sentence by sentence to the voice; returns when it has all been
        played or she has been cut off."""
        played = self._played[generation]
        splitter = SentenceSplitter(self._first_clause)
        for piece in turn:
            if generation != self._generation:
                break
            timing.first_token = timing.first_token or time.monotonic()
            for sentence in splitter.feed(piece):
                timing.first_sentence = timing.first_sentence or time.monotonic()
                self._sentences.put(_Sentence(generation, sentence))
        else:
            for sentence in splitter.flush():
                timing.first_sentence = timing.first_sentence or time.monotonic()
                self._sentences.put(_Sentence(generation, sentence))
            self._sentences.put(_Sentence(generation, _END))
        while not played.wait(0.02) and generation == self._generation \
                and self._error is None:
            pass

    def _voice(self) -> None:
        while (sentence := self._sentences.get()) is not None:
            if sentence.generation != self._generation:
                continue
            if sentence.text != _END:
                sentence.audio = self.parts.tts.synthesize(sentence.text).samples
                timing = self.timings[-1] if self.timings else None
                if timing is not None and not timing.first_synth:
                    timing.first_synth = time.monotonic()
            if sentence.generation == self._generation:
                self._audio.put(sentence)

    def _output(self) -> None:
        while (sentence := self._audio.get()) is not None:
            generation = sentence.generation
            if sentence.text == _END:
                if generation in self._played:
                    self._played[generation].set()
                continue
            self.notify("speaking", sentence.text)
            self._play(sentence)

    def _play(self, sentence: _Sentence) -> None:
        samples = sentence.audio if sentence.audio is not None else np.zeros(0, np.float32)
        step = self._frame_samples
        timing = self.timings[-1] if self.timings else None
        for start in range(0, len(samples), step):
            if sentence.generation != self._generation:
                return
            if timing is not None and not timing.first_audio:
                timing.first_audio = time.monotonic()
            self.sink.write(samples[start:start + step])
            if not sentence.aside:
                self._spoken.playing(sentence.text, min(1.0, (start + step) / len(samples)))
        if sentence.generation == self._generation and not sentence.aside:
            self._spoken.played(sentence.text)
