"""Where her hearing comes from and where her voice goes: files, arrays and sound devices.

A source yields 32 ms frames at 16 kHz. ``realtime`` sources arrive at the pace of speech
(a microphone, or a file played as if it were one); others as fast as they can be read, in
which case the conversation waits for each reply before listening on. A sink takes frames of
her voice; ``drop()`` silences it at once (an interruption).
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from os1.voice.audio import (
    HEARING_RATE,
    Audio,
    AudioError,
    Samples,
    missing_voice_extra,
    read_audio,
    resample,
    write_wav,
)
from os1.voice.vad import FRAME

DEVICE_SILENT_S = 3.0  # a microphone that gives nothing for this long has gone


class AudioSource(Protocol):
    realtime: bool

    def frames(self) -> Iterator[Samples]:
        ...


class AudioSink(Protocol):
    rate: int

    def write(self, samples: Samples) -> None:
        """Play one frame; a realtime sink returns when it has been played."""
        ...

    def drop(self) -> None:
        """Stop at once: anything buffered is not played."""
        ...

    def close(self) -> None:
        ...


class Pacer:
    """Sleeps so that frames come out no faster than real time."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.elapsed = 0.0

    def wait(self, seconds: float) -> None:
        self.elapsed += seconds
        delay = self.start + self.elapsed - time.monotonic()
        if delay > 0:
            time.sleep(delay)


class PlaybackSource:
    """Audio played into her ears, then ``tail_s`` of silence so the last turn can end."""

    def __init__(self, audio: Audio, realtime: bool = True, tail_s: float = 2.5) -> None:
        hearing = resample(audio, HEARING_RATE).samples
        tail = np.zeros(int(tail_s * HEARING_RATE), np.float32)
        self.samples = np.concatenate([hearing, tail])
        self.realtime = realtime

    @staticmethod
    def from_file(path: Path, realtime: bool = True) -> PlaybackSource:
        return PlaybackSource(read_audio(path), realtime)

    def frames(self) -> Iterator[Samples]:
        pacer = Pacer()
        usable = len(self.samples) - len(self.samples) % FRAME
        for start in range(0, usable, FRAME):
            if self.realtime:
                pacer.wait(FRAME / HEARING_RATE)
            yield self.samples[start:start + FRAME]


class FileSink:
    """Her voice written to a WAV file. Realtime: a timeline, silence where she was quiet,
    written at the pace a sound card would play it; otherwise her replies back to back."""

    def __init__(self, path: Path, rate: int, realtime: bool = True) -> None:
        self.path = path
        self.rate = rate
        self.realtime = realtime
        self._parts: list[Samples] = []
        self._written = 0
        self._start = time.monotonic()

    def write(self, samples: Samples) -> None:
        if self.realtime:
            due = int((time.monotonic() - self._start) * self.rate)
            if due > self._written:
                self._append(np.zeros(due - self._written, np.float32))
        self._append(samples)
        if self.realtime:
            delay = self._start + self._written / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)

    def _append(self, samples: Samples) -> None:
        self._parts.append(samples)
        self._written += len(samples)

    def drop(self) -> None:
        """Nothing is buffered beyond the frame being written."""

    def audio(self) -> Audio:
        samples = np.concatenate(self._parts) if self._parts else np.zeros(0, np.float32)
        return Audio(samples, self.rate)

    def close(self) -> None:
        write_wav(self.path, self.audio())


def _sounddevice() -> Any:
    try:
        import sounddevice
    except ImportError as exc:
        raise missing_voice_extra("sounddevice") from exc
    except OSError as exc:  # the PortAudio library itself is missing
        raise AudioError("PortAudio, which os1 uses for sound devices, is not installed.",
                         "Debian: sudo apt install libportaudio2 — or use --input FILE "
                         "--output FILE.") from exc
    return sounddevice


def _no_device(kind: str, exc: Exception) -> AudioError:
    return AudioError(f"No {kind} could be opened ({exc}).",
                      "Connect one, or talk through files: os1 talk --input question.wav "
                      "--output reply.wav")


class MicrophoneSource:
    """The default input device, at 16 kHz if it can, else at its own rate, resampled."""

    realtime = True

    def __init__(self) -> None:
        self._sd = _sounddevice()
        self._blocks: queue.Queue[Samples] = queue.Queue()
        try:
            rate = int(self._sd.query_devices(kind="input")["default_samplerate"])
            self._rate = HEARING_RATE if self._supports(HEARING_RATE) else rate
            self._stream = self._sd.InputStream(
                samplerate=self._rate, channels=1, dtype="float32",
                blocksize=int(FRAME * self._rate / HEARING_RATE), callback=self._heard)
            self._stream.start()
        except Exception as exc:
            raise _no_device("microphone", exc) from exc

    def _supports(self, rate: int) -> bool:
        try:
            self._sd.check_input_settings(samplerate=rate, channels=1, dtype="float32")
        except Exception:
            return False
        return True

    def _heard(self, data: Any, _frames: int, _time: Any, _status: Any) -> None:
        self._blocks.put(np.array(data[:, 0], np.float32))

    def frames(self) -> Iterator[Samples]:
        pending = np.zeros(0, np.float32)
        try:
            while True:
                try:
                    block = self._blocks.get(timeout=DEVICE_SILENT_S)
                except queue.Empty:
                    raise AudioError("The microphone stopped sending sound (was it "
                                     "unplugged?).", "Check it, then start os1 talk again.")\
                        from None
                heard = resample(Audio(block, self._rate), HEARING_RATE).samples
                pending = np.concatenate([pending, heard])
                while len(pending) >= FRAME:
                    yield pending[:FRAME]
                    pending = pending[FRAME:]
        finally:
            self._stream.close()


class SpeakerSink:
    """The default output device, with small buffers so that ``drop()`` is quick."""

    def __init__(self, rate: int) -> None:
        self._sd = _sounddevice()
        self.rate = rate
        try:
            self._stream = self._sd.OutputStream(samplerate=rate, channels=1,
                                                 dtype="float32", latency="low")
            self._stream.start()
        except Exception as exc:
            raise _no_device("speaker", exc) from exc

    def write(self, samples: Samples) -> None:
        try:
            self._stream.write(np.ascontiguousarray(samples, np.float32))
        except self._sd.PortAudioError as exc:
            raise AudioError(f"The speaker stopped working ({exc}).") from exc

    def drop(self) -> None:
        try:
            self._stream.abort()
            self._stream.start()
        except self._sd.PortAudioError as exc:
            raise AudioError(f"The speaker stopped working ({exc}).") from exc

    def close(self) -> None:
        self._stream.close()
