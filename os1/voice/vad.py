"""Voice activity: the chance that a 32 ms frame holds speech.

Silero VAD (its ONNX model ships inside faster-whisper) is run frame by frame with its
recurrent state carried over, so it costs ~0.1 ms a frame and never re-reads the past.
``EnergyVAD`` is a plain loudness gate: the in-process stand-in for unit tests.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from os1.voice.audio import HEARING_RATE, Samples, missing_voice_extra, rms

FRAME = 512  # samples at 16 kHz: the window Silero was trained on (32 ms)
FRAME_SECONDS = FRAME / HEARING_RATE
_CONTEXT = 64


class VoiceActivity(Protocol):
    def speech_probability(self, frame: Samples) -> float:
        """The chance (0-1) that this FRAME-sample frame at 16 kHz is speech."""
        ...


class SileroVAD:
    def __init__(self) -> None:
        try:
            import onnxruntime
            from faster_whisper.vad import get_assets_path
        except ImportError as exc:
            raise missing_voice_extra("faster-whisper") from exc
        options = onnxruntime.SessionOptions()
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = 1
        options.log_severity_level = 4
        self._session = onnxruntime.InferenceSession(
            f"{get_assets_path()}/silero_vad_v6.onnx", providers=["CPUExecutionProvider"],
            sess_options=options)
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)

    def speech_probability(self, frame: Samples) -> float:
        window = np.concatenate([self._context, frame.astype(np.float32)])[None, :]
        out, self._h, self._c = self._session.run(
            None, {"input": window, "h": self._h, "c": self._c})
        self._context = frame[-_CONTEXT:].astype(np.float32)
        return float(np.ravel(out)[0])


class EnergyVAD:
    """Loud enough is speech: exact for the synthetic tones of unit tests."""

    def __init__(self, threshold: float = 0.02) -> None:
        self.threshold = threshold

    def speech_probability(self, frame: Samples) -> float:
        return 1.0 if rms(frame) >= self.threshold else 0.0
