"""The spoken conversation, once for every transport: frames through processors.

    hear(frame) ─▶ VAD ─▶ end of turn (TurnDetector, utterance cap) ─▶ STT (Whisper, at
    each pause, while they talk) ─▶ her (the companion's turn) ─▶ sentences ─▶ TTS ─▶
    Output (the transport's: a sound card, a file, a WebSocket)

``os1 talk`` (local_transport.py) and ``/api/voice`` (server/voice_ws.py) each feed it
16 kHz frames and give it three things: ``Her`` (who answers, and whether speech may be
heard at all: a request budget, a login), an ``Output`` (how her voice is played, and how
much of it has been heard), and ``tell`` (what the listener is shown: events.py).
Everything conversational is here, and so behaves the same in both:

- Barge-in: speech over her (``barge_in.min_speech_s`` of it) or ``interrupt()`` cuts off
  what she is saying at once; the output stops before its next frame, the model and the
  voice at their next step, and the reply is stored as far as it was heard.
- Carried-over words: a turn cut off before her reply began (they paused, then went on)
  gives its words to the next one.
- The utterance cap: a monologue is ended at ``max_utterance_s`` and answered, so audio is
  never buffered without bound.
- Speaking ahead: while she listens, and as each stretch of their words is transcribed,
  her prompt is evaluated ahead (``Her.anticipate``), so only what changed is left to
  evaluate when they finish.
- A turn's sound (a piece she composed) plays after her words, cut off like her voice.
- Asides (``say``: a reminder) wait for the turn in progress and for the user to finish
  speaking, are cut off like a reply, and are never stored.

Only one thing runs at a time behind the listener: a turn, an aside, or an anticipation,
in that order of priority.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass

from os1.data import read_toml
from os1.errors import OS1Error
from os1.voice.audio import Samples
from os1.voice.events import (
    CutOff,
    Failed,
    Heard,
    Listening,
    Piece,
    Ready,
    Said,
    Speaking,
    Thinking,
    TurnTiming,
    Unheard,
)
from os1.voice.ports import Her, Output, Tell, VoiceParts
from os1.voice.speaking import (
    Posted,
    ReplyWork,
    Saying,
    SoundClip,
    Spoken,
    Written,
    in_thread,
    mark,
)
from os1.voice.stt import StreamingTranscriber
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

MAX_UTTERANCE_S = 30.0  # a longer utterance is ended here and answered
IDLE_POLL_S = 0.01

@dataclass
class _Turn:
    saying: Saying
    transcriber: StreamingTranscriber
    timing: TurnTiming


@dataclass
class _Aside:
    saying: Saying
    text: str


class VoiceEngine:
    """One spoken conversation. Call ``start()``, then ``hear()`` each frame, from one
    event loop; ``end()`` when the source has ended, ``close()`` when the transport goes."""

    def __init__(self, parts: VoiceParts, her: Her, output: Output, tell: Tell, *,
                 realtime: bool = True, barge_in: bool = True, anticipate: bool = True,
                 max_utterance_s: float | None = None) -> None:
        """``realtime``: frames come at the pace of speech (else each waits until she is
        idle, and no time can be won by anticipating); ``barge_in``: speech over her cuts
        her off (else, with open speakers, the microphone is ignored while she speaks);
        ``max_utterance_s``: the cap (default ``MAX_UTTERANCE_S``)."""
        settings = read_toml("voice.toml")
        self.parts, self.realtime, self.barge_in = parts, realtime, barge_in
        self.anticipate = anticipate and realtime
        self.rules = TurnRules.load()
        self.timings: list[TurnTiming] = []
        self.interruptions: list[float] = []  # when she was cut off (time.monotonic)
        self.failure: BaseException | None = None
        self._her, self._output, self._tell = her, output, tell
        self._barge_frames = frames(settings["barge_in"]["min_speech_s"])
        self._first_clause = int(settings["speech"]["first_clause_words"])
        self._max_frames = frames(max_utterance_s or MAX_UTTERANCE_S)
        self._detector = TurnDetector(self.rules, self._sounds_unfinished)
        self._transcriber: StreamingTranscriber | None = None
        self._last_speech = 0.0  # when the last frame the VAD called speech arrived
        self._cut = False  # this utterance has cut her off already
        self._carried = ""  # words of a turn they talked on over, before she answered it
        self._turns: deque[_Turn] = deque()
        self._asides: deque[_Aside] = deque()
        self._expected: str | None = None
        self._current: _Turn | _Aside | str | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- state ---------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A turn is due or under way, or she is saying something."""
        return isinstance(self._current, _Turn | _Aside) or bool(self._turns)

    @property
    def asides_waiting(self) -> int:
        return len(self._asides) + isinstance(self._current, _Aside)

    def idle(self) -> bool:
        """Nothing to do: every turn answered, every aside said (one waiting for the user
        to finish speaking does not count: the listener must go on to hear them finish)."""
        return self.failure is not None or not (
            self.busy or self._current is not None or self._expected is not None
            or (self._asides and not self._detector.speaking))

    async def until_idle(self) -> None:
        while not self.idle():
            await asyncio.sleep(IDLE_POLL_S)

    # -- the transport's calls -----------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._respond(), name="os1-voice-engine")
        self._task.add_done_callback(self._stopped)
        self._expect("")

    async def hear(self, frame: Samples) -> None:
        """One VAD frame (512 samples at 16 kHz) of what the user's side hears."""
        if self.realtime and not self.barge_in and self.busy:
            return  # open speakers: her own voice must not be taken for theirs
        probability = self.parts.vad.speech_probability(frame)
        if probability >= self.rules.stop_probability:
            self._last_speech = time.monotonic()
        events = self._detector.push(frame, probability)
        if self._detector.speech_frames >= self._max_frames:
            events += self._detector.flush()  # a monologue is answered where it got to
        for event in events:
            await self._on(event)
        if self.barge_in and not self._cut and self.busy \
                and self._detector.speech_frames >= self._barge_frames:
            self._cut = True
            await self.interrupt()

    async def end(self) -> None:
        """The source ended: what was being said counts as finished, and is answered."""
        for event in self._detector.flush():
            await self._on(event)
        await self.until_idle()

    async def interrupt(self) -> bool:
        """Cut her off now (and any turn not yet begun: its words carry over); False if
        she had nothing to say."""
        units = [self._current, *self._turns]
        cut = [unit.saying.cut_off() for unit in units if isinstance(unit, _Turn | _Aside)]
        if not any(cut):
            return False
        self.interruptions.append(time.monotonic())
        self._output.drop()
        await self._tell(CutOff())
        return True

    def say(self, text: str) -> None:
        """Say ``text`` aloud between turns (a reminder); never stored."""
        self._asides.append(_Aside(Saying(), text))
        self._wake.set()

    async def close(self) -> None:
        """The transport is gone: she stops, a turn waiting for its place gives it up,
        and a reply under way is stored as far as it was heard."""
        for unit in [self._current, *self._turns]:
            if isinstance(unit, _Turn | _Aside):
                unit.saying.cut_off()
        for transcriber in [self._transcriber, *(t.transcriber for t in self._turns)]:
            if transcriber is not None:
                transcriber.abandon()
        self._turns.clear()
        self._asides.clear()
        if self._task is not None:
            self._task.cancel()
            # wait, not gather: were the caller cancelled meanwhile, gather would raise the
            # engine's own CancelledError, which the caller's cancel scope takes for another's
            await asyncio.wait({self._task})

    # -- the listener --------------------------------------------------------------------

    def _sounds_unfinished(self) -> bool:
        return self._transcriber is not None and self._transcriber.sounds_unfinished(
            wait=not self.realtime)

    async def _on(self, event: Event) -> None:
        """One event from the turn detector: start, feed, hand over or drop a transcript."""
        if isinstance(event, SpeechStarted):
            self._cut = False
            welcome = await self._her.welcome()  # not welcome: this one goes unheard
            self._transcriber = StreamingTranscriber(self.parts.stt, self._heard_so_far) \
                if welcome else None
            if welcome:
                await self._tell(Listening())
            return
        transcriber = self._transcriber
        if isinstance(event, TurnEnded | TurnDropped):
            self._transcriber = None
            self._wake.set()  # an aside may have waited for them to finish
        if transcriber is None:
            return
        if isinstance(event, Chunk):
            transcriber.add(event.audio)
        elif isinstance(event, TurnDropped):
            transcriber.abandon()
        elif isinstance(event, TurnEnded):
            await self.interrupt()  # normally done already, as they began to speak
            timing = TurnTiming(speech_end=self._last_speech, turn_end=time.monotonic())
            self._turns.append(_Turn(Saying(), transcriber, timing))

    def _heard_so_far(self, text: str) -> None:
        """From the transcriber's thread: their words so far."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._expect, text)

    def _expect(self, heard_so_far: str) -> None:
        """Evaluate her prompt ahead: while she listens (nothing heard yet), and again as
        their words come. Live speech only: with a file read faster than real time there
        is no time to win, and the work would only delay the turns behind it."""
        if self.anticipate:
            self._expected = f"{self._carried} {heard_so_far}".strip()
            self._wake.set()

    # -- behind it: one thing at a time --------------------------------------------------

    def _stopped(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()

    async def _respond(self) -> None:
        while True:
            item = await self._next()
            self._current = item
            try:
                if isinstance(item, str):
                    await self._her.anticipate(item)
                elif isinstance(item, _Aside):
                    await self._aside(item)
                else:
                    await self._turn(item)
                    self._expect("")  # ready for the next turn before it starts
            finally:
                if not isinstance(item, str):
                    item.saying.settle(interrupted=False)  # over: nothing left to cut
                self._current = None

    async def _next(self) -> _Turn | _Aside | str:
        while True:
            if self._turns:
                return self._turns.popleft()
            if self._asides and not self._detector.speaking:
                return self._asides.popleft()
            if self._expected is not None:
                expected, self._expected = self._expected, None
                return expected
            self._wake.clear()
            await self._wake.wait()

    async def _turn(self, turn: _Turn) -> None:
        turn.timing.taken = time.monotonic()
        await self._tell(Thinking())
        try:
            try:
                heard = await self._words(turn)
            except OS1Error as error:  # Whisper could not hear it: she listens on
                await self._tell(Failed(error))
                return
            if heard is not None:
                await self._tell(Heard(heard))
                turn.timing.heard = heard
                self.timings.append(turn.timing)
                await self._reply(turn, heard)
        finally:
            await self._tell(Ready())

    async def _words(self, turn: _Turn) -> str | None:
        """Their words, after any carried over; None if there are none to answer now."""
        heard = (await in_thread(turn.transcriber.finish)).strip()
        turn.timing.transcribed = time.monotonic()
        heard, self._carried = f"{self._carried} {heard}".strip(), ""
        if turn.saying.cut.is_set():
            self._carried = heard  # they went on talking: it begins the next turn
            return None
        if not heard:
            await self._tell(Unheard())
            return None
        return heard

    async def _reply(self, turn: _Turn, heard: str) -> None:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Posted | None] = asyncio.Queue()
        self._output.begin()
        turn.saying.begin(self._output.heard)

        def post(event: Posted) -> None:  # from the model's and the voice's threads
            loop.call_soon_threadsafe(events.put_nowait, event)

        work = ReplyWork(heard, turn.saying, self.parts.tts, self._first_clause, turn.timing,
                         post)
        answer = asyncio.ensure_future(self._her.answer(work))
        answer.add_done_callback(lambda _: events.put_nowait(None))
        try:
            await self._stream(turn, events)
        finally:
            if not answer.done():  # the output broke, or the engine is closing
                turn.saying.cut_off()
                answer.cancel()
            await asyncio.wait({answer})
        error = answer.exception()
        if isinstance(error, OS1Error):
            await self._tell(Failed(error))
        elif error is not None:
            raise error
        else:
            await self._tell(answer.result())

    async def _stream(self, turn: _Turn, events: asyncio.Queue[Posted | None]) -> None:
        """What the model and the voice post, in order, until the answer is over: her
        voice played sentence by sentence while the next is being written."""
        saying, first = turn.saying, True
        while (event := await events.get()) is not None:
            if isinstance(event, SoundClip):
                await self._sound(turn, event)
            elif isinstance(event, Spoken):
                if saying.cut.is_set():
                    continue
                await self._tell(Speaking(event.text, first))
                first = False
                await self._output.play(event, saying.cut,
                                        lambda: mark(turn.timing, "first_audio"))
            elif isinstance(event, Written):
                await self._output.finish(saying.cut)  # let her finish being heard
                saying.settle(interrupted=saying.cut.is_set())
            elif not (isinstance(event, Piece) and saying.cut.is_set()):
                await self._tell(event)  # cut off: what she would have said is not shown

    async def _sound(self, turn: _Turn, clip: SoundClip) -> None:
        """Her words heard to the end, then the sound: what she said is settled first, so
        talking over the music (which stops it) does not store her reply as cut off."""
        saying = turn.saying
        if saying.cut.is_set():
            return
        await self._output.finish(saying.cut)
        saying.settle(interrupted=saying.cut.is_set(), more=True)
        if not saying.cut.is_set():
            await self._output.play(clip, saying.cut, lambda: mark(turn.timing, "first_audio"))

    async def _aside(self, aside: _Aside) -> None:
        saying = aside.saying
        self._output.begin()
        saying.begin(self._output.heard)
        try:
            try:
                audio = await in_thread(self.parts.tts.synthesize, aside.text)
            except OS1Error as error:
                await self._tell(Failed(error))
                return
            if not saying.cut.is_set() and len(audio.samples):
                await self._tell(Speaking(aside.text, True))
                await self._output.play(Spoken(0, aside.text, audio.samples, audio.rate),
                                        saying.cut, lambda: None)
                await self._output.finish(saying.cut)  # heard to the end before "said"
            await self._tell(Said("interrupted" if saying.cut.is_set() else "complete"))
        finally:
            await self._tell(Ready())
