"""Spoken conversation on the real engines: Silero VAD, Whisper tiny.en, Piper and
Festival voices, and the real bundled model. The user's speech is synthesised with the TTS
engines (and, where ../shared is beside the clone, also taken from
../shared/evalsets/speech/); what she says is transcribed back by
Whisper to check that it is on topic."""

from __future__ import annotations

import difflib
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jiwer
import numpy as np
import pytest

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.llm.llama import LlamaModel
from os1.mind.companion import Companion
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import (
    HEARING_RATE,
    Audio,
    AudioError,
    Samples,
    read_audio,
    resample,
    write_wav,
)
from os1.voice.festival import FestivalTTS
from os1.voice.io import FileSink, PlaybackSource
from os1.voice.local_transport import VoiceConversation
from os1.voice.ports import VoiceParts
from os1.voice.stt import WhisperSettings, WhisperSTT
from os1.voice.tts import TextToSpeech, open_voice
from os1.voice.vad import FRAME, SileroVAD
from tests.conftest import make_setup_record
from tests.integration.conftest import OS1

SPEECH = Path(__file__).resolve().parents[3] / "shared" / "evalsets" / "speech"
LIBRISPEECH = SPEECH / "librispeech_test_clean" / "LibriSpeech" / "test-clean"
FSDD = SPEECH / "fsdd"


@pytest.fixture(scope="module")
def stt() -> WhisperSTT:
    return WhisperSTT()


@pytest.fixture(scope="module")
def male() -> TextToSpeech:
    return open_voice("male")


@pytest.fixture(scope="module")
def user_voice() -> TextToSpeech:
    """The user's side is spoken by Festival: deterministic, unlike Piper, whose sampling
    noise makes each rendering differ (Whisper once heard "France" as "friends")."""
    return open_voice("female")


@pytest.fixture
def her(real_model: LlamaModel, db: Database, settings: Settings) -> Companion:
    SetupStore(db, settings.user).save(make_setup_record())
    return Companion(real_model, db, settings, steering=Steering.load())


def spoken(tts: TextToSpeech, *parts: str | float) -> Audio:
    """Words and pauses (seconds) as one 16 kHz recording."""
    audio = Audio.silence(0.3, HEARING_RATE)
    for part in parts:
        audio = audio.then(Audio.silence(part, HEARING_RATE) if isinstance(part, float)
                           else resample(tts.synthesize(part), HEARING_RATE))
    return audio


def heard_back(stt: WhisperSTT, audio: Audio) -> str:
    return stt.transcribe(resample(audio, HEARING_RATE)).lower()


def rows(db: Database) -> list[tuple[str, str, str]]:
    return [(r["role"], r["content"], r["status"]) for r in db.execute(
        "SELECT role, content, status FROM messages ORDER BY id")]


def test_a_spoken_question_gets_a_spoken_answer_on_topic(
        her: Companion, db: Database, stt: WhisperSTT, male: TextToSpeech,
        user_voice: TextToSpeech, tmp_path: Path) -> None:
    her.warm_up()
    question = spoken(user_voice, "What is the capital city of France?")
    sink = FileSink(tmp_path / "reply.wav", male.rate)
    talk = VoiceConversation(her, VoiceParts(SileroVAD(), stt, male),
                             PlaybackSource(question), sink)
    talk.run()
    assert "france" in rows(db)[0][1].lower()
    reply = read_audio(tmp_path / "reply.wav")
    assert "paris" in heard_back(stt, reply), rows(db)
    timing = talk.timings[0]
    assert timing.speech_end < timing.turn_end < timing.first_token < timing.first_audio


# LibriSpeech 1089-134686-0000's words, as its transcript has them
STEW = ("he hoped there would be stew for dinner turnips and carrots and bruised potatoes "
        "and fat mutton pieces to be ladled out in thick peppered flour fattened sauce")


def ten_seconds_with_pauses(user_voice: TextToSpeech) -> tuple[Audio, str]:
    """The LibriSpeech sentence below, said by the user's voice with its three pauses."""
    return spoken(user_voice, "He hoped there would be stew for dinner,", 0.35,
                  "turnips and carrots and bruised potatoes", 0.35, "and fat mutton pieces",
                  0.35, "to be ladled out in thick peppered flour fattened sauce."), STEW


def librispeech_recording(_: TextToSpeech) -> tuple[Audio, str]:
    recording = LIBRISPEECH / "1089" / "134686" / "1089-134686-0000.flac"  # 10 s, 3 pauses
    transcripts = dict(line.split(" ", 1) for line in
                       next(recording.parent.glob("*.trans.txt")).read_text().splitlines())
    return read_audio(recording), transcripts[recording.name.removesuffix(".flac")].lower()


def with_evalset(*cases: object, evalset: object) -> list[object]:
    """The test's own cases, and the evalset's when ../shared is beside the clone: it
    adds cases, a fresh clone passes without it."""
    return [*cases, evalset] if SPEECH.is_dir() else list(cases)


@pytest.mark.parametrize("recorded", with_evalset(ten_seconds_with_pauses,
                                                  evalset=librispeech_recording))
def test_speech_with_pauses_is_heard_as_said(
        db: Database, settings: Settings, stt: WhisperSTT, male: TextToSpeech,
        user_voice: TextToSpeech, recorded: Callable[[TextToSpeech], tuple[Audio, str]]) -> None:
    SetupStore(db, settings.user).save(make_setup_record())
    companion = Companion(FakeModel(), db, settings)
    audio, expected = recorded(user_voice)
    talk = VoiceConversation(companion, VoiceParts(SileroVAD(), stt, male),
                             PlaybackSource(resample(audio, HEARING_RATE), realtime=False),
                             FileSink(Path(settings.home) / "r.wav", male.rate, False))
    talk.run()
    users = [r[1].lower() for r in rows(db) if r[0] == "user"]
    assert len(users) == 1, users  # three pauses, one message
    assert jiwer.wer(expected, re.sub(r"[^\w' ]", "", users[0])) <= 0.2, users[0]


def test_a_600_ms_pause_mid_sentence_does_not_cut_the_user_off(
        db: Database, settings: Settings, stt: WhisperSTT, male: TextToSpeech,
        user_voice: TextToSpeech) -> None:
    SetupStore(db, settings.user).save(make_setup_record())
    companion = Companion(FakeModel(), db, settings)
    audio = spoken(user_voice, "Yesterday I walked down to the", 0.6,
                   "harbour to watch the boats come in.")
    talk = VoiceConversation(companion, VoiceParts(SileroVAD(), stt, male),
                             PlaybackSource(audio, realtime=False),
                             FileSink(Path(settings.home) / "r.wav", male.rate, False))
    talk.run()
    users = [r[1].lower() for r in rows(db) if r[0] == "user"]
    assert len(users) == 1, users
    assert "walked" in users[0] and "boats" in users[0]


class TimedSink(FileSink):
    """A realtime file sink that notes when each frame began."""

    def __init__(self, path: Path, rate: int) -> None:
        super().__init__(path, rate, realtime=True)
        self.writes: list[float] = []
        self.started = threading.Event()

    def write(self, samples: Samples) -> None:
        self.writes.append(time.monotonic())
        self.started.set()
        super().write(samples)


def test_barge_in_stops_her_within_one_frame_and_stores_what_she_said(
        her: Companion, db: Database, stt: WhisperSTT, male: TextToSpeech,
        user_voice: TextToSpeech, tmp_path: Path) -> None:
    her.warm_up()
    sink = TimedSink(tmp_path / "reply.wav", male.rate)
    question = spoken(user_voice, "Tell me about your favourite things about the sea.")
    interruption = spoken(user_voice, "Wait, hold on a second.")

    class TalksOverHer:
        realtime = True

        def frames(self) -> Iterator[Samples]:
            yield from PlaybackSource(question, tail_s=0).frames()
            while not sink.started.wait(FRAME / HEARING_RATE):
                yield np.zeros(FRAME, np.float32)
            # two seconds of her voice: enough words that one misheard ("sea" as "c")
            # cannot decide the check below
            yield from PlaybackSource(Audio.silence(2.0, HEARING_RATE), tail_s=0).frames()
            yield from PlaybackSource(interruption, tail_s=0).frames()

    talk = VoiceConversation(her, VoiceParts(SileroVAD(), stt, male), TalksOverHer(),
                             sink)
    talk.run()
    assert len(talk.interruptions) >= 1
    cut = talk.interruptions[0]
    next_reply = talk.timings[1].first_audio if len(talk.timings) > 1 else float("inf")
    assert len([t for t in sink.writes if cut < t < next_reply]) <= 1
    first = next(r for r in rows(db) if r[0] == "assistant")
    assert first[2] == "interrupted"
    said_words = first[1].lower().split()
    assert said_words, "she had said something before she was cut off"
    # what is stored is what came out: her audio up to the cut, transcribed, matches it
    played = sink.audio().samples[: int((cut - sink._start) * sink.rate)]
    heard = heard_back(stt, Audio(played, sink.rate)).replace(",", "").replace(".", "").split()
    overlap = sum(sounds_like_one_of(w.strip(",.!?"), heard) for w in said_words)
    assert overlap >= 0.6 * len(said_words), (first[1], heard)


def sounds_like_one_of(word: str, heard: list[str]) -> bool:
    """Whisper on a clip cut mid-word spells some words its own way ("sea" as "see");
    close spelling is counted, a different word is not."""
    return any(difflib.SequenceMatcher(None, word, h).ratio() >= 0.6 for h in heard)


def test_a_window_cut_to_the_speech_hears_as_the_whole_window_does(
        stt: WhisperSTT, user_voice: TextToSpeech) -> None:
    """The cut window is what makes hearing fast; one cut too short makes Whisper loop
    ("one one one one") and must be heard again in the whole window."""
    question = spoken(user_voice, "Can you tell me something nice about rainy days?")
    whole = WhisperSTT(WhisperSettings(least_window_s=30.0))
    assert "rainy days" in whole.transcribe(question).lower()
    reheard = stt.rehearings  # the module's Whisper has heard other tests' audio
    assert stt.transcribe(question) == whole.transcribe(question)
    assert stt.rehearings == reheard
    for said in with_evalset(lambda: user_voice.synthesize("One."),
                             evalset=lambda: read_audio(FSDD / "1_jackson_0.wav")):
        one = resample(said(), HEARING_RATE)  # type: ignore[operator]
        assert one.seconds < 1.0
        too_short = WhisperSTT(WhisperSettings(least_window_s=1.0))
        heard = too_short.transcribe(one)
        assert heard == whole.transcribe(one) and heard.lower() == "one.", heard
        assert too_short.rehearings == 1


def test_noise_alone_is_not_taken_for_speech(stt: WhisperSTT, male: TextToSpeech,
                                             db: Database, settings: Settings) -> None:
    SetupStore(db, settings.user).save(make_setup_record())
    model = FakeModel()
    noise = np.random.default_rng(7).normal(0, 0.05, 10 * HEARING_RATE).astype(np.float32)
    talk = VoiceConversation(Companion(model, db, settings),
                             VoiceParts(SileroVAD(), stt, male),
                             PlaybackSource(Audio(noise, HEARING_RATE), realtime=False),
                             FileSink(Path(settings.home) / "r.wav", male.rate, False))
    talk.run()
    assert model.calls == []
    assert rows(db) == []


def test_os1_talk_from_a_file_to_a_file(os1_env: dict[str, str], user_voice: TextToSpeech,
                                        stt: WhisperSTT, tmp_path: Path) -> None:
    home = Path(os1_env["OS1_HOME"])
    db = Database.open(home / "os1.db")
    # her Festival voice: Piper's sampling noise once made Whisper hear "Tuesday" as
    # "two stay" (her Piper voice is heard back in the test of a question on topic)
    SetupStore(db, "local").save(make_setup_record(voice="female"))
    db.close()
    question = tmp_path / "question.wav"
    write_wav(question, spoken(user_voice, "Good morning! What day comes after Monday?"))
    result = subprocess.run([*OS1, "talk", "--input", str(question), "--output",
                             str(tmp_path / "reply.wav")], env=os1_env, capture_output=True,
                            text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    assert "you: Good morning" in result.stdout
    reply = read_audio(tmp_path / "reply.wav")
    assert reply.seconds > 1.0
    assert "tuesday" in heard_back(stt, reply), result.stdout


def test_os1_talk_says_when_a_file_holds_no_speech(os1_env: dict[str, str],
                                                   tmp_path: Path) -> None:
    home = Path(os1_env["OS1_HOME"])
    db = Database.open(home / "os1.db")
    SetupStore(db, "local").save(make_setup_record())
    db.close()
    write_wav(tmp_path / "silence.wav", Audio.silence(3.0, 8000))
    result = subprocess.run([*OS1, "talk", "--fast", "--input", str(tmp_path / "silence.wav"),
                             "--output", str(tmp_path / "r.wav")], env=os1_env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 1
    assert "No speech was heard" in result.stderr


def test_festival_kept_running_reads_code_as_words_and_survives_its_own_death(
        stt: WhisperSTT) -> None:
    festival = FestivalTTS()
    try:
        tricky = 'She said "hello" (print "x") and a \\ backslash.'
        assert "hello" in heard_back(stt, festival.synthesize(tricky))
        assert festival.synthesize("  ").seconds == 0
        assert festival._process is not None
        festival._process.kill()  # as if the OS had killed it between two sentences
        assert "tomorrow" in heard_back(stt, festival.synthesize("See you tomorrow."))
    finally:
        festival.close()
    with pytest.raises(AudioError, match="no voice"):
        FestivalTTS("no_such_voice")
