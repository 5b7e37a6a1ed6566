"""The spoken conversation: ``/api/voice``, a WebSocket transport for the conversation
engine of ``os1 talk`` (voice/pipeline.py). Here: login, framing, the protocol's frames,
limits and the request budget; everything conversational (turns, barge-in, carried-over
words, the utterance cap, speaking ahead, asides) is the engine's.

Protocol. The first frame authenticates, as on ``/api/conversation``:
``{"type": "auth", "token": ...}`` (a bad one gets an ``error`` frame and close 4401).
The server answers ``{"type": "ready", ...}``, loads her ears and voice (once per server
process; an ``error`` frame with code ``voice_unavailable`` and close 1011 if the voice
extra is not installed) and says ``{"type": "state", "state": "listening"}``.

From then on the client streams the microphone as **binary frames of 16 kHz mono int16
PCM** (little-endian, an even number of bytes, at most ``MAX_AUDIO_FRAME_BYTES``). The
server runs the engine's Silero VAD and turn detector on it; when the user has
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
progress to end (and for any the user has begun), then says ``{"type": "state", "state":
"speaking"}``, her voice as above, ``{"type": "said", "status": "complete"}`` (or
``"interrupted"`` if talked over) and ``{"type": "state", "state": "listening"}``.
Nothing of it is stored: the text is only spoken, never read as an instruction.

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
While they speak her prompt is evaluated ahead when the model is free at that moment
(voice_her.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from fastapi import FastAPI, WebSocket, WebSocketDisconnect

from os1.errors import OS1Error
from os1.server.accounts import Account, AuthError
from os1.server.gate import Busy, Unavailable
from os1.server.sockets import Gone, json_object, log_in, receive, refuse_too_big
from os1.server.voice_her import ServerHer
from os1.server.voice_parts import PartsFactory, load_parts, voice_of
from os1.server.voice_playback import AUDIO_CHUNK_S, LEAD_S, SocketOutput, Timeline
from os1.voice.events import (
    CutOff,
    Done,
    Failed,
    Heard,
    Notice,
    Piece,
    Ready,
    Said,
    Speaking,
    Thinking,
    Unheard,
    VoiceEvent,
)
from os1.voice.pipeline import MAX_UTTERANCE_S, VoiceEngine
from os1.voice.ports import VoiceParts
from os1.voice.speaking import in_thread
from os1.voice.vad import FRAME

if TYPE_CHECKING:
    from os1.server.server_state import ServerState

MAX_AUDIO_FRAME_BYTES = 64_000   # 2 s of 16 kHz int16: browsers send ~64 ms at a time
MAX_SAY_CHARS = 500              # what a "say" frame may ask her to say aloud
MAX_SAYS_WAITING = 3             # say frames waiting or being said; more are "busy"

# The clock that estimates where the client's playback is (tests replace it).
clock: Callable[[], float] = time.monotonic

log = logging.getLogger(__name__)


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
        try:
            parts = await in_thread(factory, await in_thread(voice_of, state, account))
        except OS1Error as error:
            await _send_json(ws, {"type": "error", "code": "voice_unavailable",
                                  "message": str(error), "hint": error.hint})
            await ws.close(1011)
            return
        session = _Session(ws, state, account, parts)
        await session.run()
    except Gone:
        return
    finally:
        if session is not None:
            await session.close()


async def _send_json(ws: WebSocket, data: dict[str, Any]) -> None:
    try:
        await ws.send_json(data)
    except (WebSocketDisconnect, RuntimeError, OSError) as exc:
        raise Gone() from exc


class _Session:
    """One voice connection: frames in, the engine, protocol frames out."""

    def __init__(self, ws: WebSocket, state: ServerState, account: Account,
                 parts: VoiceParts) -> None:
        self.ws, self.state = ws, state
        self.her = ServerHer(state, account, self.report)
        output = SocketOutput(self.send, self.send_bytes, lambda: clock())
        self.engine = VoiceEngine(parts, self.her, output, self.tell,
                                  max_utterance_s=MAX_UTTERANCE_S)
        self.pending = np.zeros(0, np.float32)  # at most one VAD frame, not yet heard
        self.turn = contextlib.ExitStack()  # a turn under way, for farewell.py
        self.lock = asyncio.Lock()  # one frame at a time, from the listener or the engine

    async def send(self, data: dict[str, Any]) -> None:
        async with self.lock:
            await _send_json(self.ws, data)

    async def send_bytes(self, data: bytes) -> None:
        try:
            async with self.lock:
                await self.ws.send_bytes(data)
        except (WebSocketDisconnect, RuntimeError, OSError) as exc:
            raise Gone() from exc

    async def run(self) -> None:
        await self.send({"type": "state", "state": "listening"})
        await self.engine.start()
        while True:
            message = await receive(self.ws)
            data, text = message.get("bytes"), message.get("text")
            size = len(data) if data is not None else len((text or "").encode())
            if size > MAX_AUDIO_FRAME_BYTES:
                await refuse_too_big(self.ws, size, MAX_AUDIO_FRAME_BYTES)
            if data is not None:
                await self._hear(data)
            else:
                await self._command(text or "")
            await self._check()

    async def _check(self) -> None:
        """The engine broke down (not by the client leaving): say so and close."""
        failure = self.engine.failure
        if failure is None or isinstance(failure, Gone):
            return
        log.error("the voice engine failed", exc_info=failure)
        with contextlib.suppress(Gone):
            await self.send({"type": "error", "code": "failed",
                             "message": "Her voice broke down; turn voice on again."})
        await self.ws.close(1011)
        raise Gone() from failure

    async def _command(self, text: str) -> None:
        frame = json_object(text)
        kind = frame.get("type") if frame is not None else None
        if kind == "interrupt":
            await self.engine.interrupt()
        elif kind == "say" and frame is not None:
            await self._say(frame.get("text"))
        else:
            await self.send({"type": "error", "code": "bad_frame", "message":
                             'Send the microphone as binary 16 kHz int16 frames, '
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
        waiting = self.engine.asides_waiting
        if waiting >= MAX_SAYS_WAITING:
            await self.send({"type": "error", "code": "busy", "retry_after_s": 1,
                             "message": f"She has {waiting} things to say already."})
            return
        if await self.her.welcome():
            self.engine.say(text.strip())

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
            await self.engine.hear(frame)

    async def tell(self, event: VoiceEvent) -> None:
        """What the engine says happened, as the protocol's frames."""
        if isinstance(event, Thinking):
            self.turn.enter_context(self.state.farewell.turn(self.ws))
        if isinstance(event, Ready):
            self.turn.close()
            with contextlib.suppress(Gone):
                await self.send({"type": "state", "state": "listening"})
        elif isinstance(event, Failed):
            await self.report(event.error)
        elif (frame := _frame(event)) is not None:
            await self.send(frame)

    async def report(self, error: OS1Error) -> None:
        """An error frame; a login that is gone also closes the connection (4401, Gone)."""
        if isinstance(error, AuthError):
            await self.send({"type": "error", "code": "unauthorised", "message": str(error)})
            await self.ws.close(4401)
            raise Gone() from error
        if isinstance(error, Busy):
            code = "unavailable" if isinstance(error, Unavailable) else "busy"
            await self.send({"type": "error", "code": code, "message": str(error),
                             "retry_after_s": error.retry_after_s})
            return
        await self.send({"type": "error", "code": "failed", "message": str(error),
                         "hint": error.hint})

    async def close(self) -> None:
        """The client is gone: her reply stops (stored as far as heard), and a turn still
        waiting for the model leaves the queue (it held a place there for nobody)."""
        await self.engine.close()
        self.turn.close()


def _frame(event: VoiceEvent) -> dict[str, Any] | None:
    """The frame for an event that is told as it is; None for one the page is not told."""
    if isinstance(event, Thinking):
        return {"type": "state", "state": "thinking"}
    if isinstance(event, Speaking):
        return {"type": "state", "state": "speaking"} if event.first else None
    if isinstance(event, CutOff):
        return {"type": "state", "state": "listening"}
    if isinstance(event, Heard | Notice | Piece):
        kind = {Heard: "heard", Notice: "notice", Piece: "piece"}[type(event)]
        return {"type": kind, "text": event.text}
    if isinstance(event, Unheard):
        return {"type": "unheard"}
    if isinstance(event, Said):
        return {"type": "said", "status": event.status}
    if isinstance(event, Done):
        done: dict[str, Any] = {"type": "done", "status": event.status,
                                "message_id": event.message_id}
        if event.status == "interrupted":
            done["said"] = event.said
        return done
    return None  # Listening, Unspoken: the page shows what it was sent


__all__ = ["AUDIO_CHUNK_S", "LEAD_S", "MAX_UTTERANCE_S", "Timeline", "load_parts",
           "voice_routes"]
