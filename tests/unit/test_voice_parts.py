"""The voice pipeline's parts on their own: turn detection, sentence cutting, what counts
as spoken, and reading audio that is damaged, empty or at the wrong rate."""

from __future__ import annotations

import re
import threading
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from os1.voice.audio import HEARING_RATE, Audio, AudioError, read_audio, resample, write_wav
from os1.voice.fakes import quiet, tone
from os1.voice.festival import scheme_string
from os1.voice.sentences import SentenceSplitter, speakable
from os1.voice.spoken import SpokenRecord
from os1.voice.stt import StreamingTranscriber, said_twice, sounds_unfinished, trim_padding
from os1.voice.turn_taking import Chunk, Event, TurnDetector, TurnDropped, TurnEnded, TurnRules
from os1.voice.vad import FRAME, EnergyVAD

RULES = TurnRules.load()


def detect(audio: Audio, unfinished: bool = False) -> list[Event]:
    detector = TurnDetector(RULES, lambda: unfinished)
    vad = EnergyVAD()
    events: list[Event] = []
    samples = audio.samples[: len(audio.samples) - len(audio.samples) % FRAME]
    for start in range(0, len(samples), FRAME):
        frame = samples[start:start + FRAME]
        events += detector.push(frame, vad.speech_probability(frame))
    return events + detector.flush()


def ended(events: list[Event]) -> list[TurnEnded]:
    return [e for e in events if isinstance(e, TurnEnded)]


def test_a_600_ms_pause_mid_sentence_does_not_end_the_turn() -> None:
    events = detect(tone(1.0).then(quiet(0.6)).then(tone(1.0)).then(quiet(2.0)))
    assert len(ended(events)) == 1
    # it ended after the second stretch of speech, not at the pause
    assert ended(events)[0].frame * FRAME / HEARING_RATE > 2.5


def test_the_speech_before_a_pause_is_handed_to_speech_to_text_at_the_pause() -> None:
    events = detect(tone(1.0).then(quiet(0.6)).then(tone(1.0)).then(quiet(2.0)))
    chunks = [e for e in events if isinstance(e, Chunk)]
    assert len(chunks) == 2
    assert events.index(chunks[0]) < events.index(ended(events)[0])
    assert 1.0 <= chunks[0].audio.seconds < 2.0


def test_a_long_silence_ends_the_turn() -> None:
    events = detect(tone(1.0).then(quiet(1.2)).then(tone(1.0)).then(quiet(1.2)))
    assert len(ended(events)) == 2


def test_a_turn_that_sounds_unfinished_waits_longer() -> None:
    gap = quiet(1.2)
    assert len(ended(detect(tone(1.0).then(gap).then(tone(1.0)), unfinished=False))) == 2
    assert len(ended(detect(tone(1.0).then(gap).then(tone(1.0)), unfinished=True))) == 1


def test_a_click_is_dropped_as_noise_not_answered() -> None:
    events = detect(quiet(0.5).then(tone(0.15)).then(quiet(2.0)))
    assert ended(events) == []
    assert any(isinstance(e, TurnDropped) for e in events)


def test_silence_is_no_turn_at_all() -> None:
    assert detect(quiet(5.0)) == []


def test_a_ten_minute_monologue_is_transcribed_as_it_goes() -> None:
    events = detect(tone(600.0).then(quiet(2.0)))
    chunks = [e for e in events if isinstance(e, Chunk)]
    assert len(ended(events)) == 1
    assert len(chunks) >= 600 / RULES.max_chunk_s
    assert max(c.audio.seconds for c in chunks) <= RULES.max_chunk_s + 0.1
    assert sum(c.audio.seconds for c in chunks) == pytest.approx(600.0, abs=1.0)


@pytest.mark.parametrize(("text", "unfinished"), [
    ("I went to the shop.", False), ("Is it raining?", False), ("I went to the", True),
    ("and then, um", True), ("So I was thinking...", True), ("we went there and", True),
    ("no punctuation here", True), ("", False)])
def test_what_sounds_unfinished(text: str, unfinished: bool) -> None:
    assert sounds_unfinished(text) is unfinished


def test_the_transcriber_works_while_you_talk_and_finishes_with_the_tail() -> None:
    from os1.voice.fakes import ScriptedSTT

    stt = ScriptedSTT()
    stt.texts.extend(["I went", "to the shop."])
    transcriber = StreamingTranscriber(stt)
    transcriber.add(tone(1.0))
    transcriber.add(tone(0.5))
    assert transcriber.finish() == "I went to the shop."
    assert [a.seconds for a in stt.heard] == [1.0, 0.5]


def test_a_failing_transcriber_reports_in_the_caller() -> None:
    class Broken:
        def transcribe(self, audio: Audio, prompt: str = "") -> str:
            raise AudioError("broken")

    transcriber = StreamingTranscriber(Broken())
    transcriber.add(tone(0.2))
    with pytest.raises(AudioError, match="broken"):
        transcriber.finish()


def test_sentences_are_released_as_soon_as_they_are_complete() -> None:
    splitter = SentenceSplitter(first_clause_words=6)
    released = [list(splitter.feed(p)) for p in
                ["Oh, I was just ", "thinking about the song we heard, ", "the one with ",
                 "the piano. It ", "was **lovely**! Do", " you remember?"]]
    assert released == [[], ["Oh, I was just thinking about the song we heard,"], [],
                        ["the one with the piano."], ["It was lovely!"],
                        ["Do you remember?"]]
    assert list(splitter.flush()) == []


def test_markup_emoji_and_links_are_not_read_aloud() -> None:
    assert speakable("**Yes!** 😊 See [this](http://x.org) or https://a.b/c\n- item") == \
        "Yes! See this or a link item"


def test_what_was_spoken_counts_the_cut_sentence_by_its_audio() -> None:
    record = SpokenRecord()
    record.playing("One two three.", 1.0)
    record.played("One two three.")
    record.playing("Four five six seven.", 0.5)
    assert record.text() == "One two three. Four five"


def test_audio_at_the_wrong_rate_and_in_stereo_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "stereo8k.wav"
    mono = tone(1.0, rate=8000).samples
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes((np.repeat(mono, 2) * 32767).astype("<i2").tobytes())
    audio = read_audio(path)
    assert audio.rate == HEARING_RATE
    assert audio.seconds == pytest.approx(1.0, abs=0.01)


def test_a_corrupt_file_gets_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt garbage" * 10)
    with pytest.raises(AudioError, match="not audio that can be read"):
        read_audio(path)


def test_an_empty_or_missing_file_gets_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="is empty"):
        read_audio(tmp_path / "empty.wav")
    with pytest.raises(AudioError, match="no audio file"):
        read_audio(tmp_path / "nothing.wav")


def test_a_written_wav_reads_back(tmp_path: Path) -> None:
    write_wav(tmp_path / "x.wav", tone(0.5, rate=22050))
    back = read_audio(tmp_path / "x.wav", 22050)
    assert back.seconds == pytest.approx(0.5, abs=0.01)
    assert resample(back, 16000).seconds == pytest.approx(0.5, abs=0.01)


def test_a_sentence_released_without_its_trailing_space_goes_out_at_once() -> None:
    """The persona guard releases "…cozy." before the space that follows it."""
    splitter = SentenceSplitter()
    assert list(splitter.feed("Rainy days are cozy.")) == ["Rainy days are cozy."]
    assert list(splitter.feed(" It costs 3.")) == []  # may be "3.5"
    assert list(splitter.feed("5 dollars!")) == ["It costs 3.5 dollars!"]


def test_symbols_are_said_as_words() -> None:
    assert speakable("It's $40 & 5% off") == "It's 40 dollars and 5 percent off"


def test_a_chunk_still_being_transcribed_counts_as_unfinished() -> None:
    release = threading.Event()

    class Slow:
        def transcribe(self, audio: Audio, prompt: str = "") -> str:
            release.wait(5)
            return "I went home."

    transcriber = StreamingTranscriber(Slow())
    transcriber.add(tone(0.2))
    time.sleep(0.05)  # the worker has taken the chunk off the queue by now
    assert transcriber.sounds_unfinished()
    release.set()
    assert transcriber.finish() == "I went home."
    assert not transcriber.sounds_unfinished()


def test_whispers_padding_is_cut_to_the_speech_a_tail_and_a_least_window() -> None:
    features = np.zeros((1, 80, 3000), np.float32)
    features[0, :, :250] = -0.5  # 2.5 s of sound; the rest is faster-whisper's zero padding
    assert trim_padding(features, least_frames=1200, tail_frames=100).shape == (1, 80, 1200)
    features[0, 3, 1500] = 0.1   # sound 15 s in: kept, with its tail
    assert trim_padding(features, 1200, 100).shape == (1, 80, 1601)
    assert trim_padding(features[0], 1200, 2000).shape == (80, 3000)  # never past the window
    assert trim_padding(np.zeros((80, 3000), np.float32), 1200, 100).shape == (80, 1200)


@pytest.mark.parametrize(("text", "looping"), [
    ("How do I make a good cup of tea? How do I make a good", True),
    ("Can you tell me something nice? Can you tell me something nice", True),
    ("I don't know, I don't know.", False),
    ("What is the capital of France?", False),
    ("", False)])
def test_four_words_said_twice_mark_a_transcript_as_looping(text: str, looping: bool) -> None:
    assert said_twice(text, 4) is looping


def test_a_first_clause_released_without_its_space_goes_out_at_once() -> None:
    splitter = SentenceSplitter(first_clause_words=6)
    assert list(splitter.feed("Oh, rainy days are lovely for staying in,")) == \
        ["Oh, rainy days are lovely for staying in,"]
    splitter = SentenceSplitter(first_clause_words=2)
    assert list(splitter.feed("It costs 1,")) == []


@pytest.mark.parametrize("text", ['say "hi"', "a \\ b", 'x") (system "rm', "two\nlines"])
def test_text_for_festival_is_one_scheme_string_that_nothing_inside_can_end(text: str) -> None:
    literal = scheme_string(text)
    assert literal.startswith('"') and literal.endswith('"') and "\n" not in literal
    inner = literal[1:-1]
    # every quote inside is escaped, so the string can only end at the last character
    assert re.fullmatch(r'(?:[^"\\]|\\.)*', inner)
    assert re.sub(r"\\(.)", r"\1", inner) == " ".join(text.split())
