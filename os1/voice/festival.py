"""Festival kept running: her female voice without a new process for every sentence.

``text2wave`` starts Festival and loads the HTS voice each time, about 0.25 s before the
first sample, which lands on every sentence and most of all on the first one, the one
that decides how soon she starts speaking. One interactive ``festival`` process, fed
Scheme commands on stdin, keeps the voice loaded: a short sentence comes back in tens of
milliseconds. Each request ends by printing a numbered marker, so the reply is read up to
exactly that marker; a process that dies or stalls is reported, and the next sentence
starts a new one.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from pathlib import Path

import numpy as np

from os1.voice.audio import Audio, AudioError, read_audio

RATE = 32_000
START_TIMEOUT_S = 30
SYNTH_TIMEOUT_S = 60
INSTALL_HINT = "Debian: sudo apt install festival festvox-us-slt-hts"


def scheme_string(text: str) -> str:
    """``text`` as a Scheme string literal, on one line: nothing in it can end the string
    or run as code."""
    flat = " ".join(text.split())
    return '"' + flat.replace("\\", "\\\\").replace('"', '\\"') + '"'


class FestivalStopped(AudioError):
    pass


class FestivalTTS:
    def __init__(self, voice: str = "cmu_us_slt_arctic_hts") -> None:
        if shutil.which("festival") is None:
            raise AudioError("The festival program is not installed.", INSTALL_HINT)
        self._voice = voice
        self._lock = threading.Lock()
        self._folder = tempfile.TemporaryDirectory(prefix="os1-festival-")
        self._process: subprocess.Popen[bytes] | None = None
        self._requests = 0
        with self._lock:
            self._start()

    @property
    def rate(self) -> int:
        return RATE

    def synthesize(self, text: str) -> Audio:
        """A Festival that died since the last sentence is restarted once, unnoticed."""
        if not text.strip():
            return Audio(np.zeros(0, np.float32), RATE)
        with self._lock:
            try:
                return self._speak(text)
            except FestivalStopped:
                return self._speak(text)

    def _speak(self, text: str) -> Audio:
        if self._process is None or self._process.poll() is not None:
            self._start()
        self._requests += 1
        out = Path(self._folder.name) / f"speech{self._requests}.wav"
        self._ask(f"(utt.save.wave (SynthText {scheme_string(text)}) "
                  f"{scheme_string(str(out))} 'riff)", SYNTH_TIMEOUT_S)
        if not out.exists():
            raise AudioError(f"Festival could not speak {text[:60]!r}.")
        try:
            return read_audio(out, RATE)
        finally:
            out.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            self._stop()
        self._folder.cleanup()

    def _start(self) -> None:
        self._stop()
        self._process = subprocess.Popen(["festival", "-i"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        weakref.finalize(self, self._process.kill)
        reply = self._ask(f"(voice_{self._voice})", START_TIMEOUT_S)
        if "SIOD ERROR" in reply:
            self._stop()
            raise AudioError(f"Festival has no voice {self._voice!r}.", INSTALL_HINT)
        self._speak("Hello.")  # the first sentence is slower: pay that now, not in her words

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None

    def _ask(self, command: str, timeout: float) -> str:
        """Run one command; returns what Festival printed up to this request's marker."""
        process = self._process
        assert process is not None and process.stdin is not None and process.stdout is not None
        self._requests += 1
        marker = f"os1-done-{self._requests}"
        try:
            process.stdin.write(f'{command}\n(print "{marker}")\n'.encode())
            process.stdin.flush()
        except OSError as exc:
            self._stop()
            raise FestivalStopped(f"Festival stopped: {exc}.") from exc
        return self._read_until(process, marker.encode(), timeout)

    def _read_until(self, process: subprocess.Popen[bytes], marker: bytes,
                    timeout: float) -> str:
        assert process.stdout is not None
        deadline = time.monotonic() + timeout
        received = b""
        while marker not in received:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([process.stdout], [], [], max(0.0, left))
            chunk = os.read(process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                self._stop()
                if ready:
                    raise FestivalStopped("Festival stopped while speaking.")
                raise AudioError(f"Festival took more than {timeout:.0f} s to speak.")
            received += chunk
        return received.decode("utf-8", "replace")
