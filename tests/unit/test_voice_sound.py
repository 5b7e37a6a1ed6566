"""A skill's answer with a sound (a piece she composed): ``os1 talk`` plays it after her
words through the same output, and talking over it stops it (issue 27). In-process ears,
a tone voice and a desk that answers from data; her words are quiet tones (0.3), the
piece a loud one (0.8), so the output shows which is which."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.skills.contract import SkillAnswer
from os1.storage.db import Database
from os1.voice.audio import Audio, Samples, write_wav
from os1.voice.fakes import ScriptedSTT, ToneTTS, quiet, tone
from os1.voice.io import FileSink, PlaybackSource
from os1.voice.local_transport import VoiceConversation
from os1.voice.ports import VoiceParts
from os1.voice.vad import FRAME, EnergyVAD

HERE_IT_IS = "Here it is, a little waltz I wrote for you this morning."
PIECE_RATE = 44_100  # what fluidsynth renders
WAIT_S = 10.0  # the most the microphone waits for her to start playing
LOUD = 0.5  # her voice (ToneTTS) never goes above 0.3; the piece is at 0.8


@dataclass
class MusicDesk:
    """Answers "play me something" with words and a piece, anything else not at all."""

    piece: Path
    asked: list[str] = field(default_factory=list)

    def answer(self, text: str) -> SkillAnswer | None:
        self.asked.append(text)
        if "play me something" not in text.lower():
            return None
        return SkillAnswer(HERE_IT_IS, "I played him a little waltz.", sound=self.piece)

    def passed(self) -> None:
        pass


@dataclass
class Speaker:
    """A sink that plays in real time and notes each frame: when, how long, how loud."""

    rate: int = 8000
    writes: list[tuple[float, int, float]] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    music: threading.Event = field(default_factory=threading.Event)
    drops: int = 0

    def write(self, samples: Samples) -> None:
        peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
        self.writes.append((time.monotonic(), len(samples), peak))
        self.started.set()
        if peak > LOUD:
            self.music.set()
        time.sleep(len(samples) / self.rate)

    def drop(self) -> None:
        self.drops += 1

    def close(self) -> None:
        pass

    def music_samples(self) -> int:
        return sum(n for _, n, peak in self.writes if peak > LOUD)


def piece(path: Path, seconds: float) -> Path:
    write_wav(path, tone(seconds, PIECE_RATE, amplitude=0.8, pitch=330.0))
    return path


def stored(db: Database) -> list[tuple[str, str, str]]:
    return [(r["role"], r["content"], r["status"]) for r in db.execute(
        "SELECT role, content, status FROM messages ORDER BY id")]


def frames(audio: Audio) -> Iterator[Samples]:
    yield from PlaybackSource(audio, realtime=True, tail_s=0).frames()


def talks_over_her_once(sink: Speaker, when: threading.Event) -> object:
    """A live microphone: he asks, waits until ``when`` is set (at most ``WAIT_S``: a
    piece that never plays fails the test, not hangs it), then talks over her."""

    class Microphone:
        realtime = True

        def frames(self) -> Iterator[Samples]:
            yield from frames(tone(1.0).then(quiet(1.0)))
            deadline = time.monotonic() + WAIT_S
            while not when.wait(0.01) and time.monotonic() < deadline:
                yield np.zeros(FRAME, np.float32)
            yield from frames(quiet(0.1).then(tone(0.8)).then(quiet(2.0)))

    return Microphone()


@pytest.fixture
def musical(fake_model: FakeModel, db: Database, settings: Settings,
            setup_record: object, tmp_path: Path) -> Companion:
    return Companion(fake_model, db, settings,
                     desk=MusicDesk(piece(tmp_path / "waltz.wav", 2.0)))


def test_a_skill_answer_gives_its_sound_to_the_turn_and_a_model_reply_has_none(
        musical: Companion, fake_model: FakeModel, tmp_path: Path) -> None:
    answered = musical.reply("Play me something")
    assert "".join(answered) == HERE_IT_IS
    assert answered.sound == tmp_path / "waltz.wav"
    fake_model.enqueue("Hello there.")
    written = musical.reply("Hello")
    assert "".join(written) == "Hello there." and written.sound is None


def test_her_piece_plays_after_her_words_into_the_output_file(
        musical: Companion, db: Database, tmp_path: Path) -> None:
    tts = ToneTTS()
    sink = FileSink(tmp_path / "talk.wav", tts.rate, realtime=False)
    told: list[tuple[str, str]] = []
    parts = VoiceParts(EnergyVAD(), ScriptedSTT(default="Play me something."), tts)
    talk = VoiceConversation(musical, parts, PlaybackSource(tone(1.0), realtime=False), sink,
                             notify=lambda kind, text: told.append((kind, text)))
    talk.run()
    samples = sink.audio().samples
    words = round(tts.word_s * len(HERE_IT_IS.split()) * tts.rate)
    loud = np.flatnonzero(np.abs(samples) > LOUD)
    assert np.max(np.abs(samples[:words])) < LOUD, "her words come first"
    assert len(loud) and loud[0] >= words - 1, "the piece only after them"
    # 2 s at 44.1 kHz, resampled to her voice's rate (8 kHz), all of it
    assert len(samples) - words == pytest.approx(2.0 * tts.rate, abs=0.02 * tts.rate)
    assert np.max(np.abs(samples[words:])) > 0.7
    assert " ".join(t for k, t in told if k == "speaking") == HERE_IT_IS, \
        "her words are told, the piece is not a sentence"
    assert not [k for k, _ in told if k == "error"]
    assert stored(db)[-1] == ("assistant", "I played him a little waltz.", "complete")
    assert (tmp_path / "talk.wav").is_file()


def test_talking_over_her_piece_stops_it_and_her_words_stay_whole(
        musical: Companion, fake_model: FakeModel, db: Database) -> None:
    fake_model.enqueue("All right, I stopped.")
    sink = Speaker()
    stt = ScriptedSTT(default="Stop.")
    stt.texts.append("Play me something.")
    talk = VoiceConversation(musical, VoiceParts(EnergyVAD(), stt, ToneTTS()),
                             talks_over_her_once(sink, sink.music), sink)  # type: ignore[arg-type]
    talk.run()
    assert len(talk.interruptions) == 1 and sink.drops >= 1
    cut = talk.interruptions[0]
    music_after = [w for w in sink.writes if w[0] > cut and w[2] > LOUD]
    assert len(music_after) <= 1, "stopped within a frame"
    assert 0 < sink.music_samples() < 0.8 * 2.0 * sink.rate, "cut off part way"
    assert stored(db) == [
        ("user", "Play me something.", "complete"),
        ("assistant", "I played him a little waltz.", "complete"),
        ("user", "Stop.", "complete"),
        ("assistant", "All right, I stopped.", "complete")]
    assert not talk.timings[0].interrupted and talk.timings[0].said == HERE_IT_IS


def test_talking_over_her_words_means_the_piece_never_plays(
        db: Database, settings: Settings, setup_record: object, fake_model: FakeModel,
        tmp_path: Path) -> None:
    fake_model.enqueue("All right.")
    companion = Companion(fake_model, db, settings,
                          desk=MusicDesk(piece(tmp_path / "waltz.wav", 1.0)))
    sink = Speaker()
    stt = ScriptedSTT(default="Never mind.")
    stt.texts.append("Play me something.")
    talk = VoiceConversation(companion, VoiceParts(EnergyVAD(), stt, ToneTTS(word_s=0.2)),
                             talks_over_her_once(sink, sink.started), sink)  # type: ignore[arg-type]
    talk.run()
    assert len(talk.interruptions) == 1
    assert sink.music_samples() == 0
    assert [m[2] for m in stored(db) if m[0] == "assistant"] == ["interrupted", "complete"]


def test_a_piece_that_cannot_be_read_is_told_and_her_words_are_still_said(
        db: Database, settings: Settings, setup_record: object, fake_model: FakeModel,
        tmp_path: Path) -> None:
    companion = Companion(fake_model, db, settings,
                          desk=MusicDesk(tmp_path / "gone.wav"))
    tts = ToneTTS()
    sink = FileSink(tmp_path / "talk.wav", tts.rate, realtime=False)
    told: list[tuple[str, str]] = []
    parts = VoiceParts(EnergyVAD(), ScriptedSTT(default="Play me something."), tts)
    VoiceConversation(companion, parts, PlaybackSource(tone(1.0), realtime=False), sink,
                      notify=lambda kind, text: told.append((kind, text))).run()
    assert tts.spoken and " ".join(tts.spoken) == HERE_IT_IS
    assert [t for k, t in told if k == "error" and "gone.wav" in t]
    assert np.max(np.abs(sink.audio().samples)) < LOUD
    assert stored(db)[-1] == ("assistant", "I played him a little waltz.", "complete")
