"""Her ears and voice on a server: Whisper and each voice loaded once per process and
shared by every voice connection, one connection at a time (they are not thread-safe and
each would cost its memory again); the VAD, which keeps state between frames, is each
connection's own (it is small)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from os1.server.accounts import Account
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import Audio
from os1.voice.ports import VoiceParts
from os1.voice.stt import SpeechToText
from os1.voice.tts import TextToSpeech

if TYPE_CHECKING:
    from os1.server.server_state import ServerState

DEFAULT_VOICE = "female"

PartsFactory = Callable[[str], VoiceParts]


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
    """Whisper and the voice, loaded on first use and shared; a VAD of its own."""
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


def voice_of(state: ServerState, account: Account) -> str:
    """The voice chosen at setup, if there was one; else the default."""
    db = Database.open(state.settings.storage, migrate=False)
    try:
        setup = SetupStore(db, account.user_id).current()
    finally:
        db.close()
    return setup.voice if setup is not None and setup.voice else DEFAULT_VOICE
