"""The spoken conversation: ``/api/voice``, her voice pipeline behind a WebSocket.

Protocol. The first frame authenticates, as on ``/api/conversation``:
``{"type": "auth", "token": ...}`` (a bad one gets an ``error`` frame and close 4401).
The server answers ``{"type": "ready", ...}``, loads her ears and voice (once per server
process; an ``error`` frame with code ``voice_unavailable`` and close 1011 if the voice
extra is not installed) and says ``{"type": "state", "state": "listening"}``.

From then on the client streams the microphone as **binary frames of 16 kHz mono int16
PCM** (little-endian, an even number of bytes, at most ``MAX_AUDIO_FRAME_BYTES``). The
server runs Silero VAD and the turn detector of ``os1 talk`` on it; when the user has
finished it says, in JSON text frames::

    {"type": "state", "state": "thinking"}
    {"type": "heard", "text": "What is the capital of France?"}   (stored as their message)
    {"type": "piece", "text": "Paris"} ...                        (her reply as she writes it)
    {"type": "state", "state": "speaking"}                         (before her first audio)
    {"type": "audio", "rate": 32000, "samples": N}   then binary int16 PCM frames of her
                                                     voice at that rate, N samples in all
    ... (one audio header per sentence, sent while she is still writing the next)
    {"type": "done", "status": "complete", "message_id": 12}       (her reply is stored)
    {"type": "state", "state": "listening"}

Her voice is sent a little ahead of where the client's playback must be
(``LEAD_S``), not all at once, so that cutting her off stops it at once.

Barge-in: speech from the client while she is thinking or speaking (as much as
voice.toml's ``barge_in.min_speech_s``), or a ``{"type": "interrupt"}`` frame, stops her
generation and her audio: ``{"type": "state", "state": "listening"}`` at once, then
``{"type": "done", "status": "interrupted", "message_id": 12, "said": "..."}``. What she
got to say (estimated from the audio sent, played back to back from the first frame) is
stored with the status "interrupted", as ``os1 talk`` does, and is the frame's ``said``
(so a page can show what was heard, not all she had written; "" and no id when she was cut
off before a word). Speech that barged in is heard as the next turn;
if it cut in before her reply began (they only paused), their earlier words begin it.

Between turns the client may ask her to say something aloud: ``{"type": "say", "text":
...}`` (at most ``MAX_SAY_CHARS``; the page sends each reminder that reaches it while voice
is on, so a person who is listening, not looking, hears it). She waits for the turn in
progress to end, then says ``{"type": "state", "state": "speaking"}``, her voice as above,
``{"type": "said", "status": "complete"}`` (or ``"interrupted"`` if talked over) and
``{"type": "state", "state": "listening"}``. Nothing of it is stored: the text is only
spoken, never read as an instruction.

Problems come as ``{"type": "error", "code": ..., "message": ...}``: ``bad_audio`` (an
odd byte count), ``bad_frame`` (JSON that is no known frame), ``busy``, ``unavailable``,
``failed``; the connection stays open. A frame over ``MAX_AUDIO_FRAME_BYTES`` gets
``too_big`` and close 1009. Memory per connection is bounded: at most one VAD frame of
unprocessed audio is kept, an utterance longer than ``MAX_UTTERANCE_S`` is ended there and
answered, her voice is never more than ``LEAD_S`` ahead of playback, and at most
``MAX_SAYS_WAITING`` say frames wait. Nothing the person says is logged.

What costs the server (Whisper on an utterance, her voice for a say) is paid only for a
live login within its request budget: each utterance as it starts and each say frame
spends one request and checks the token, and a revoked one ends the connection (4401) at
once (issue 25: an attacker's probes). A turn still waiting for the model when its client
leaves gives its place up; on shutdown the reply under way is finished (``farewell.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from os1.data import read_toml
from os1.errors import OS1Error
from os1.mind.companion import Companion, Turn
from os1.server.accounts import Account, AuthError
from os1.server.gate import Busy, Unavailable
from os1.server.sockets import Gone, json_object, log_in
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import HEARING_RATE, Audio
from os1.voice.conversation import VoiceParts
from os1.voice.sentences import SentenceSplitter
from os1.voice.spoken import SpokenRecord
from os1.voice.stt import SpeechToText, StreamingTranscriber
from os1.voice.tts import TextToSpeech
from os1.voice.turn_taking import (
    Chunk,
    SpeechStarted,
    TurnDetector,
    TurnDropped,
    TurnEnded,
    TurnRules,
    frames,
)
from os1.voice.vad import FRAME

if TYPE_CHECKING:
    from os1.server.app import ServerState

MAX_AUDIO_FRAME_BYTES = 64_000   # 2 s of 16 kHz int16: browsers send ~64 ms at a time
MAX_UTTERANCE_S = 30.0           # a longer utterance is ended here and answered
MAX_SAY_CHARS = 500              # what a "say" frame may ask her to say aloud
MAX_SAYS_WAITING = 3             # say frames waiting or being said; more are "busy"
LEAD_S = 1.0                     # her voice is sent at most this far ahead of playback
AUDIO_CHUNK_S = 0.25             # her voice goes out in binary frames this long
POLL_S = 0.02
DEFAULT_VOICE = "female"

# The clock that estimates where the client's playback is (tests replace it).
clock: Callable[[], float] = time.monotonic

PartsFactory = Callable[[str], VoiceParts]


# -- her ears and voice, loaded once per process -------------------------------------------


class _Locked:
    """One engine shared by every connection, used by one at a time."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._lock = threading.Lock()

    @property
    def rate(self) -> int:
        return int(self._engine.rate)

    def transcribe(self, audio: Audio, prompt: str = "") -> str:
        with self._lock:
            return str(self._engine.transcribe(audio, prompt))

    def synthesize(self, text: str) -> Audio:
        with self._lock:
            result: Audio = self._engine.synthesize(text)
            return result


_engines: dict[str, Any] = {}
_engines_lock = threading.Lock()


def load_parts(voice: str) -> VoiceParts:
    """Whisper and the voice are loaded on first use and shared; the VAD keeps state
    between frames, so each connection gets its own (it is small)."""
    from os1.voice.stt import WhisperSTT
    from os1.voice.tts import open_voice
    from os1.voice.vad import SileroVAD

    with _engines_lock:
        if "stt" not in _engines:
            _engines["stt"] = _Locked(WhisperSTT())
        if f"tts:{voice}" not in _engines:
            _engines[f"tts:{voice}"] = _Locked(open_voice(voice))
        stt: SpeechToText = _engines["stt"]
        tts: TextToSpeech = _engines[f"tts:{voice}"]
    return VoiceParts(SileroVAD(), stt, tts)


def _voice_of(state: ServerState, account: Account) -> str:
    """The voice chosen at setup, if there was one; else the default."""
    db = Database.open(state.settings.storage, migrate=False)
    try:
        setup = SetupStore(db, account.user_id).current()
    finally:
        db.close()
    return setup.voice if setup is not None and setup.voice else DEFAULT_VOICE


# -- what she got to say -------------------------------------------------------------------


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


# -- events from the turn's threads ------------------------------------------------------


@dataclass(frozen=True)
class _Piece:
    text: str


@dataclass(frozen=True)
class _Spoken:
    number: int
    sentence: str
    samples: np.ndarray[Any, Any]
    rate: int


@dataclass(frozen=True)
class _Notice:
    text: str


@dataclass(frozen=True)
class _Written:
    """Generation and speech synthesis are over (``error`` if generation failed)."""

    error: BaseException | None = None


@dataclass(frozen=True)
class _Finished:
    status: str
    message_id: int | None
    said: str


_Event = _Piece | _Spoken | _Notice | _Written | _Finished


# -- the connection ------------------------------------------------------------------------


def voice_routes(app: FastAPI, state: ServerState) -> None:
    """``app.state.voice_parts`` may hold a ``PartsFactory`` (tests put fakes there)."""

    @app.websocket("/api/voice")
    async def voice(ws: WebSocket) -> None:
        await ws.accept()
        with state.farewell.connection(ws):
            await _voice(app, state, ws)


async def _voice(app: FastAPI, state: ServerState, ws: WebSocket) -> None:
    session: _Session | None = None
    try:
        account = await log_in(ws, state)
        if account is None:
            return
        factory: PartsFactory = getattr(app.state, "voice_parts", None) or load_parts
        loop = asyncio.get_running_loop()
        try:
            voice = await loop.run_in_executor(None, _voice_of, state, account)
            parts = await loop.run_in_executor(None, factory, voice)
        except OS1Error as error:
            await _send_json(ws, asyncio.Lock(), {
                "type": "error", "code": "voice_unavailable", "message": str(error),
                "hint": error.hint})
            await ws.close(1011)
            return
        session = _Session(ws, state, account, parts)
        await session.run()
    except Gone:
        return
    finally:
        if session is not None:
            await session.close()


async def _send_json(ws: WebSocket, lock: asyncio.Lock, data: dict[str, Any]) -> None:
    try:
        async with lock:
            await ws.send_text(json.dumps(data))
    except (WebSocketDisconnect, RuntimeError, OSError) as exc:
        raise Gone() from exc


class _Session:
    def __init__(self, ws: WebSocket, state: ServerState, account: Account,
                 parts: VoiceParts) -> None:
        self.ws = ws
        self.state = state
        self.account = account
        self.parts = parts
        settings = read_toml("voice.toml")
        self.rules = TurnRules.load()
        self.barge_frames = frames(settings["barge_in"]["min_speech_s"])
        self.first_clause = int(settings["speech"]["first_clause_words"])
        self.max_frames = frames(MAX_UTTERANCE_S)
        self.lock = asyncio.Lock()
        self.pending = np.zeros(0, np.float32)
        self.transcriber: StreamingTranscriber | None = None
        self.detector = TurnDetector(self.rules, self._sounds_unfinished)
        self.cut = False
        self.carried = ""  # words of a turn they talked on over, before she answered it
        self.turn: _Turn | _Aside | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.turn_tasks: dict[asyncio.Task[None], _Turn] = {}
        self.says = 0  # say frames waiting or being said
        self.closed = False

    def _sounds_unfinished(self) -> bool:
        return self.transcriber is not None and self.transcriber.sounds_unfinished()

    async def send(self, data: dict[str, Any]) -> None:
        await _send_json(self.ws, self.lock, data)

    async def send_bytes(self, data: bytes) -> None:
        try:
            async with self.lock:
                await self.ws.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise Gone() from exc

    async def run(self) -> None:
        await self.send({"type": "state", "state": "listening"})
        while True:
            try:
                message = await self.ws.receive()
            except (WebSocketDisconnect, RuntimeError) as exc:
                raise Gone() from exc
            if message["type"] == "websocket.disconnect":
                raise Gone()
            data = message.get("bytes")
            text = message.get("text")
            size = len(data) if data is not None else len((text or "").encode())
            if size > MAX_AUDIO_FRAME_BYTES:
                await self.send({"type": "error", "code": "too_big",
                                 "message": f"That frame is {size:,} bytes; the most is "
                                            f"{MAX_AUDIO_FRAME_BYTES:,}."})
                await self.ws.close(1009)
                raise Gone()
            if data is not None:
                await self._hear(data)
            else:
                await self._command(text or "")

    async def _command(self, text: str) -> None:
        frame = json_object(text)
        kind = frame.get("type") if frame is not None else None
        if kind == "interrupt":
            await self.interrupt()
            return
        if kind == "say" and frame is not None:
            await self._say(frame.get("text"))
            return
        await self.send({"type": "error", "code": "bad_frame",
                         "message": 'Send the microphone as binary 16 kHz int16 frames, '
                                    '{"type": "interrupt"} or {"type": "say", "text": ...}.'})

    async def _say(self, text: object) -> None:
        """Say ``text`` aloud once the turn in progress (if any) has ended. Her voice costs
        CPU, so a say is a request like a turn: only while signed in, within the request
        budget, and at most ``MAX_SAYS_WAITING`` at a time (a flood of them was each
        given a task and a synthesis, issue 25)."""
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_SAY_CHARS:
            await self.send({"type": "error", "code": "bad_frame",
                             "message": "A say frame needs text of 1 to "
                                        f"{MAX_SAY_CHARS} characters."})
            return
        if self.says >= MAX_SAYS_WAITING:
            await self.send({"type": "error", "code": "busy", "retry_after_s": 1,
                             "message": f"She has {self.says} things to say already."})
            return
        if not await self._welcome():
            return

        async def run() -> None:
            try:
                while self.turn is not None and not self.turn.ended.is_set():
                    await self.turn.ended.wait()
                if self.closed:
                    return  # the client left before its turn to be said came
                aside = _Aside(self, text.strip())
                self.turn = aside
                try:
                    await aside.run()
                finally:
                    if self.turn is aside:
                        self.turn = None
            finally:
                self.says -= 1

        self.says += 1
        self._track(asyncio.create_task(run()))

    async def _welcome(self) -> bool:
        """Before anything costly (Whisper on an utterance, her voice for a say): still
        signed in, and within the request budget. A revoked token ends the connection
        (4401, Gone) at once, not after its next utterance has been transcribed; past the
        budget the client is told ``busy`` and False."""
        try:
            await asyncio.to_thread(self.state.accounts.still_signed_in, self.account)
        except AuthError as error:
            await self.send({"type": "error", "code": "unauthorised", "message": str(error)})
            await self.ws.close(4401)
            raise Gone() from error
        try:
            self.state.limiter.check(self.account.user_id)
        except Busy as error:
            await self.send({"type": "error", "code": "busy", "message": str(error),
                             "retry_after_s": error.retry_after_s})
            return False
        return True

    async def _hear(self, data: bytes) -> None:
        if len(data) % 2:
            await self.send({"type": "error", "code": "bad_audio",
                             "message": "Audio frames are 16-bit samples: an even number "
                                        f"of bytes, not {len(data):,}."})
            return
        samples = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
        self.pending = np.concatenate([self.pending, samples])
        while len(self.pending) >= FRAME:
            frame, self.pending = self.pending[:FRAME], self.pending[FRAME:]
            await self._frame(frame)

    async def _frame(self, frame: np.ndarray[Any, Any]) -> None:
        probability = self.parts.vad.speech_probability(frame)
        events = self.detector.push(frame, probability)
        if self.detector.speech_frames >= self.max_frames:
            events += self.detector.flush()  # a monologue is answered where it got to
        for event in events:
            if isinstance(event, SpeechStarted):
                self.cut = False
                self.transcriber = StreamingTranscriber(self.parts.stt) \
                    if await self._welcome() else None  # not welcome: this one goes unheard
            elif self.transcriber is None:
                continue
            elif isinstance(event, Chunk):
                self.transcriber.add(event.audio)
            elif isinstance(event, TurnDropped):
                self.transcriber.abandon()
                self.transcriber = None
            elif isinstance(event, TurnEnded):
                self._start_turn(self.transcriber)
                self.transcriber = None
        if not self.cut and self.turn is not None \
                and self.detector.speech_frames >= self.barge_frames:
            self.cut = True
            await self.interrupt()

    def _start_turn(self, transcriber: StreamingTranscriber) -> None:
        previous = self.turn
        if previous is not None:
            previous.cut_off()
        turn = _Turn(self, transcriber)
        self.turn = turn

        async def run() -> None:
            if previous is not None:
                await previous.ended.wait()
            try:
                await turn.run()
            finally:
                if self.turn is turn:
                    self.turn = None

        task = asyncio.create_task(run())
        self.turn_tasks[task] = turn
        self._track(task)

    def _track(self, task: asyncio.Task[None]) -> None:
        self.tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.turn_tasks.pop(task, None)
        if not task.cancelled():
            task.exception()  # Gone: the client left; nothing more to say to it

    async def interrupt(self) -> None:
        turn = self.turn
        if turn is not None and turn.cut_off():
            await self.send({"type": "state", "state": "listening"})

    async def close(self) -> None:
        """The client is gone: her reply stops, and a turn still waiting for the model
        leaves the queue (it held a place there for nobody, issue 25)."""
        self.closed = True
        if self.turn is not None:
            self.turn.cut_off()
        if self.transcriber is not None:
            self.transcriber.abandon()
        for task, turn in list(self.turn_tasks.items()):
            if not turn.admitted:
                task.cancel()
        for task in list(self.tasks):
            await asyncio.gather(task, return_exceptions=True)


class _Turn:
    """One spoken exchange: their words, her reply written, spoken and stored."""

    def __init__(self, session: _Session, transcriber: StreamingTranscriber) -> None:
        self.session = session
        self.transcriber = transcriber
        self.cancelled = threading.Event()
        self.settled: queue.Queue[tuple[str, bool]] = queue.Queue()
        self.timeline = Timeline()
        self.ended = asyncio.Event()
        self.admitted = False  # given a place at the model: from here on it is stored
        self._settle_sent = False

    def cut_off(self) -> bool:
        """Stop her now; False if she had finished already."""
        if self.cancelled.is_set() or self._settle_sent:
            return False
        self.cancelled.set()
        self._settle(interrupted=True)
        return True

    def _settle(self, interrupted: bool) -> None:
        if not self._settle_sent:
            self._settle_sent = True
            self.settled.put((self.timeline.said(clock()), interrupted))

    async def run(self) -> None:
        with self.session.state.farewell.turn(self.session.ws):
            await self._run()

    async def _run(self) -> None:
        session = self.session
        loop = asyncio.get_running_loop()
        try:
            await session.send({"type": "state", "state": "thinking"})
            heard = (await loop.run_in_executor(None, self.transcriber.finish)).strip()
            heard, session.carried = f"{session.carried} {heard}".strip(), ""
            if self.cancelled.is_set():
                session.carried = heard  # they went on talking: it begins the next turn
                return
            if not heard:
                await session.send({"type": "unheard"})
                return
            await session.send({"type": "heard", "text": heard})
            await loop.run_in_executor(None, session.state.accounts.still_signed_in,
                                       session.account)
            await self._reply(heard)
        except AuthError as error:  # logged out since: this connection ends
            await session.send({"type": "error", "code": "unauthorised", "message": str(error)})
            await session.ws.close(4401)
        except Busy as error:
            code = "unavailable" if isinstance(error, Unavailable) else "busy"
            await session.send({"type": "error", "code": code, "message": str(error),
                                "retry_after_s": error.retry_after_s})
        except OS1Error as error:
            await session.send({"type": "error", "code": "failed", "message": str(error),
                                "hint": error.hint})
        finally:
            self.cancelled.set()
            self._settle(interrupted=True)
            self.ended.set()
            with contextlib.suppress(Gone):
                await session.send({"type": "state", "state": "listening"})

    async def _reply(self, heard: str) -> None:
        session, state = self.session, self.session.state
        minds = state.ready_minds()  # the request budget was spent as they began to speak
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[_Event] = asyncio.Queue()

        def put(event: _Event) -> None:
            loop.call_soon_threadsafe(events.put_nowait, event)

        def work() -> None:
            with minds.companion(session.account) as companion:
                self._work(companion, heard, put)

        async with state.gate.turn(session.account.user_id):
            self.admitted = True
            future = loop.run_in_executor(None, work)
            try:
                await self._stream(events)
            finally:
                self.cancelled.set()
                self._settle(interrupted=True)
                await asyncio.shield(future)

    def _work(self, companion: Companion, heard: str, put: Callable[[_Event], None]) -> None:
        """In a worker thread: generate, split and synthesise; store once settled."""
        sentences: queue.Queue[tuple[int, str] | None] = queue.Queue()
        voice = threading.Thread(target=self._speak, args=(sentences, put), daemon=True,
                                 name="os1-voice-tts")
        voice.start()
        error: BaseException | None = None
        turn: Turn | None = None
        splitter = SentenceSplitter(self.session.first_clause)
        count = itertools.count()
        try:
            turn = companion.reply(heard, spoken=True)
            if turn.notice:
                put(_Notice(turn.notice))
            for piece in turn:
                if self.cancelled.is_set():
                    break
                put(_Piece(piece))
                for sentence in splitter.feed(piece):
                    sentences.put((next(count), sentence))
            else:
                for sentence in splitter.flush():
                    sentences.put((next(count), sentence))
        except BaseException as exc:  # reported in the event loop; the turn still settles
            error = exc
        finally:
            sentences.put(None)
            voice.join()
            put(_Written(error))
            said, interrupted = self.settled.get()
            status = "failed"
            if turn is not None:
                turn.settle(said, interrupted)
                status = "interrupted" if interrupted else turn.status or "complete"
            last, spoken = companion.log.last(), said.strip()
            put(_Finished(status, last.id if last is not None and last.role == "assistant"
                          and spoken else None, spoken))

    def _speak(self, sentences: queue.Queue[tuple[int, str] | None],
               put: Callable[[_Event], None]) -> None:
        tts = self.session.parts.tts
        while (item := sentences.get()) is not None:
            if self.cancelled.is_set():
                continue
            number, sentence = item
            try:
                audio = tts.synthesize(sentence)
            except OS1Error:
                continue  # she is still shown; a sentence the voice can't say is skipped
            if not self.cancelled.is_set() and len(audio.samples):
                put(_Spoken(number, sentence, audio.samples, audio.rate))

    async def _stream(self, events: asyncio.Queue[_Event]) -> None:
        session = self.session
        speaking = False
        while True:
            event = await events.get()
            if isinstance(event, _Piece):
                if self.cancelled.is_set():
                    continue  # cut off: what she would have said next is not shown
                await session.send({"type": "piece", "text": event.text})
            elif isinstance(event, _Notice):
                await session.send({"type": "notice", "text": event.text})
            elif isinstance(event, _Spoken):
                if self.cancelled.is_set():
                    continue
                if not speaking:
                    speaking = True
                    await session.send({"type": "state", "state": "speaking"})
                await _send_voice(session, event, self.timeline, self.cancelled)
            elif isinstance(event, _Written):
                while not self.cancelled.is_set() and clock() < self.timeline.end:
                    await asyncio.sleep(POLL_S)  # let her finish being heard
                self._settle(interrupted=self.cancelled.is_set())
                if event.error is not None:
                    raise event.error
            else:
                done: dict[str, Any] = {"type": "done", "status": event.status,
                                        "message_id": event.message_id}
                if event.status == "interrupted":
                    done["said"] = event.said
                await session.send(done)
                return



class _Aside:
    """Something she says between turns (a reminder): spoken, never stored. It stands in
    the session's turn while it plays, so talking over it cuts it off like a reply."""

    def __init__(self, session: _Session, text: str) -> None:
        self.session = session
        self.text = text
        self.cancelled = threading.Event()
        self.timeline = Timeline()
        self.ended = asyncio.Event()

    def cut_off(self) -> bool:
        if self.cancelled.is_set() or self.ended.is_set():
            return False
        self.cancelled.set()
        return True

    async def run(self) -> None:
        session = self.session
        loop = asyncio.get_running_loop()
        try:
            audio = await loop.run_in_executor(None, session.parts.tts.synthesize, self.text)
            if not self.cancelled.is_set() and len(audio.samples):
                await session.send({"type": "state", "state": "speaking"})
                await _send_voice(session, _Spoken(0, self.text, audio.samples, audio.rate),
                                  self.timeline, self.cancelled)
                while not self.cancelled.is_set() and clock() < self.timeline.end:
                    await asyncio.sleep(POLL_S)  # heard to the end before "said"
            await session.send({"type": "said", "status": "interrupted"
                                if self.cancelled.is_set() else "complete"})
        except OS1Error as error:
            await session.send({"type": "error", "code": "failed", "message": str(error),
                                "hint": error.hint})
        finally:
            self.cancelled.set()
            self.ended.set()
            with contextlib.suppress(Gone):
                await session.send({"type": "state", "state": "listening"})


async def _send_voice(session: _Session, spoken: _Spoken, timeline: Timeline,
                      cancelled: threading.Event) -> None:
    """Her voice in frames of AUDIO_CHUNK_S, never more than LEAD_S ahead of playback, so
    that cutting her off stops it at once."""
    pcm = (np.clip(spoken.samples, -1.0, 1.0) * 32767).astype("<i2")
    step = max(1, int(spoken.rate * AUDIO_CHUNK_S))
    await session.send({"type": "audio", "rate": spoken.rate, "samples": len(pcm)})
    whole = len(pcm) / spoken.rate
    for start in range(0, len(pcm), step):
        while not cancelled.is_set() and timeline.ahead(clock()) > LEAD_S:
            await asyncio.sleep(POLL_S)
        if cancelled.is_set():
            return
        part = pcm[start:start + step]
        timeline.add(spoken.number, spoken.sentence, len(part) / spoken.rate,
                     (start + len(part)) / spoken.rate, whole, clock())
        await session.send_bytes(part.tobytes())

__all__ = ["HEARING_RATE", "Timeline", "load_parts", "voice_routes"]
