"""The spoken conversation (os1/voice/conversation.py) on in-process engines: tones for
speech, a scripted transcriber, a tone voice and the scripted model. The same pipeline
runs on the real engines in tests/integration/test_voice_real.py."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from os1.cli import cli
from os1.cli import voice as cli_voice
from os1.llm.base import GenerateOptions, Message
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.storage.db import Database
from os1.voice import io as voice_io
from os1.voice.audio import HEARING_RATE, Audio, AudioError, Samples, write_wav
from os1.voice.fakes import ScriptedSTT, ToneTTS, quiet, tone
from os1.voice.io import FileSink, PlaybackSource
from os1.voice.local_transport import VoiceConversation
from os1.voice.ports import VoiceParts
from os1.voice.vad import FRAME, EnergyVAD
from tests.conftest import PrefillingModel

REPLY = ("Paris is lovely in the spring and I would love to go there with you. "
         "We could walk along the river and talk about everything all evening long.")


def stored(db: Database) -> list[tuple[str, str, str]]:
    return [(r["role"], r["content"], r["status"]) for r in db.execute(
        "SELECT role, content, status FROM messages ORDER BY id")]


@dataclass
class RecordingSink:
    """A sink that plays in real time and notes when each frame began."""

    rate: int = 8000
    writes: list[tuple[float, int]] = field(default_factory=list)
    started: threading.Event = field(default_factory=threading.Event)
    drops: int = 0

    def write(self, samples: Samples) -> None:
        self.writes.append((time.monotonic(), len(samples)))
        self.started.set()
        time.sleep(len(samples) / self.rate)

    def drop(self) -> None:
        self.drops += 1

    def close(self) -> None:
        pass


@dataclass
class SlowModel(FakeModel):
    """Writes a piece every ``pause`` seconds, and notes when it finished."""

    pause: float = 0.05
    finished_at: float = 0.0

    def stream_chat(self, messages: Sequence[Message], options: GenerateOptions)\
            -> Iterator[str]:
        pieces = super().stream_chat(messages, options)

        def slow() -> Iterator[str]:
            for piece in pieces:
                time.sleep(self.pause)
                yield piece
            self.finished_at = time.monotonic()
        return slow()


def conversation(companion: Companion, audio: Audio, sink: object, *, realtime: bool = False,
                 stt: ScriptedSTT | None = None, tts: ToneTTS | None = None,
                 barge_in: bool = True) -> VoiceConversation:
    parts = VoiceParts(EnergyVAD(), stt or ScriptedSTT(default="What is Paris like?"),
                       tts or ToneTTS())
    return VoiceConversation(companion, parts, PlaybackSource(audio, realtime=realtime),
                             sink, barge_in=barge_in)  # type: ignore[arg-type]


def test_a_spoken_question_gets_a_spoken_answer_and_both_are_stored(
        companion: Companion, fake_model: FakeModel, db: Database, tmp_path: Path) -> None:
    fake_model.enqueue(REPLY)
    tts = ToneTTS()
    sink = FileSink(tmp_path / "reply.wav", tts.rate, realtime=False)
    talk = conversation(companion, tone(1.0), sink, tts=tts)
    talk.run()
    assert stored(db) == [("user", "What is Paris like?", "complete"),
                          ("assistant", " ".join(tts.spoken), "complete")]
    assert " ".join(tts.spoken) == REPLY
    assert (tmp_path / "reply.wav").is_file()
    assert sink.audio().seconds == pytest.approx(0.05 * len(REPLY.split()), abs=0.05)
    # she was told she is speaking, not writing
    assert "talking out loud" in fake_model.calls[0].messages[-2].content


def test_she_starts_speaking_before_the_model_has_finished(
        db: Database, settings: object, setup_record: object) -> None:
    model = SlowModel(pause=0.05)
    model.enqueue(REPLY)
    companion = Companion(model, db, settings)  # type: ignore[arg-type]
    talk = conversation(companion, tone(1.0), RecordingSink())
    talk.run()
    timing = talk.timings[0]
    assert 0 < timing.first_sentence < timing.first_synth <= timing.first_audio
    assert timing.first_audio < model.finished_at


def test_a_pause_mid_sentence_gives_one_turn_transcribed_in_two_pieces(
        companion: Companion, db: Database) -> None:
    stt = ScriptedSTT()
    stt.texts.extend(["I was thinking", "about Paris."])
    talk = conversation(companion, tone(1.0).then(quiet(0.6)).then(tone(0.8)),
                        RecordingSink(), stt=stt)
    talk.run()
    assert [m for m in stored(db) if m[0] == "user"] == \
        [("user", "I was thinking about Paris.", "complete")]
    assert len(stt.heard) == 2


def test_barge_in_stops_her_within_one_frame_and_stores_what_she_said(
        companion: Companion, fake_model: FakeModel, db: Database) -> None:
    fake_model.enqueue(REPLY)
    sink = RecordingSink()
    tts = ToneTTS(word_s=0.1)

    class TalksOverHer:
        realtime = True

        def frames(self) -> Iterator[Samples]:
            yield from _frames(tone(1.0).then(quiet(1.0)), realtime=True)
            while not sink.started.wait(0.01):
                yield np.zeros(FRAME, np.float32)
            yield from _frames(quiet(0.4).then(tone(0.8)).then(quiet(2.0)), realtime=True)

    parts = VoiceParts(EnergyVAD(), ScriptedSTT(default="What is Paris like?"), tts)
    talk = VoiceConversation(companion, parts, TalksOverHer(), sink)
    talk.run()
    assert len(talk.interruptions) == 1
    cut = talk.interruptions[0]
    # what she says next answers the interruption: a new turn, with its own first frame
    next_reply = talk.timings[1].first_audio if len(talk.timings) > 1 else float("inf")
    frames_after = [w for w in sink.writes if cut < w[0] < next_reply]
    assert len(frames_after) <= 1
    assert [w for w in sink.writes if w[0] <= cut], "she had started speaking"
    assistant = [m for m in stored(db) if m[0] == "assistant"]
    said, status = assistant[0][1], assistant[0][2]
    assert status == "interrupted"
    assert said and REPLY.startswith(said) and len(said) < len(REPLY)
    assert talk.timings[0].interrupted


def _frames(audio: Audio, realtime: bool) -> Iterator[Samples]:
    yield from PlaybackSource(audio, realtime=realtime, tail_s=0).frames()


def test_with_open_speakers_her_own_voice_does_not_cut_her_off(
        companion: Companion, fake_model: FakeModel, db: Database) -> None:
    fake_model.enqueue(REPLY)
    sink = RecordingSink()

    class Echo:
        """A microphone next to the speaker: it hears her while she talks."""
        realtime = True

        def frames(self) -> Iterator[Samples]:
            yield from _frames(tone(1.0).then(quiet(1.0)), realtime=True)
            while not sink.started.wait(0.01):
                yield np.zeros(FRAME, np.float32)
            while len(sink.writes) < 40:
                yield tone(FRAME / HEARING_RATE).samples
                time.sleep(FRAME / HEARING_RATE)
            yield from _frames(quiet(3.0), realtime=True)

    parts = VoiceParts(EnergyVAD(), ScriptedSTT(default="What is Paris like?"), ToneTTS())
    talk = VoiceConversation(companion, parts, Echo(), sink, barge_in=False)
    talk.run()
    assert talk.interruptions == []
    assert [m[2] for m in stored(db) if m[0] == "assistant"] == ["complete"]


def test_silence_and_a_click_get_no_reply(companion: Companion, db: Database) -> None:
    talk = conversation(companion, quiet(2.0).then(tone(0.15)).then(quiet(2.0)),
                        RecordingSink())
    talk.run()
    assert stored(db) == []
    assert talk.timings == []


def test_words_she_cannot_make_out_are_not_sent_to_the_model(
        companion: Companion, fake_model: FakeModel, db: Database) -> None:
    talk = conversation(companion, tone(1.0), RecordingSink(), stt=ScriptedSTT(default=""))
    notes: list[str] = []
    talk.notify = lambda kind, text: notes.append(kind)
    talk.run()
    assert fake_model.calls == []
    assert "unheard" in notes


def test_a_model_error_is_told_and_she_keeps_listening(
        companion: Companion, fake_model: FakeModel, db: Database) -> None:
    from os1.errors import BackendUnavailable

    fake_model.fail_with = BackendUnavailable("The model server is gone.", "Start it.")
    notes: list[tuple[str, str]] = []
    talk = conversation(companion, tone(1.0).then(quiet(1.5)).then(tone(1.0)),
                        RecordingSink())
    talk.notify = lambda kind, text: notes.append((kind, text))
    talk.run()
    assert ("error", "The model server is gone. Start it.") in notes
    assert [m[0] for m in stored(db)] == ["user", "user", "assistant"]


def test_a_broken_speaker_stops_the_conversation_with_its_message(
        companion: Companion, db: Database) -> None:
    class Unplugged(RecordingSink):
        def write(self, samples: Samples) -> None:
            raise AudioError("The speaker stopped working (unplugged).")

    with pytest.raises(AudioError, match="speaker stopped working"):
        conversation(companion, tone(1.0), Unplugged()).run()


def test_no_microphone_gets_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import sounddevice

    def no_device(*args: object, **kwargs: object) -> object:
        raise sounddevice.PortAudioError("Error querying device -1")

    monkeypatch.setattr(sounddevice, "query_devices", no_device)
    with pytest.raises(AudioError, match="No microphone could be opened") as caught:
        voice_io.MicrophoneSource()
    assert "--input" in caught.value.hint


def test_a_microphone_that_goes_quiet_is_reported_not_waited_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sounddevice

    class DeadStream:
        def __init__(self, **kwargs: object) -> None:
            pass

        def start(self) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(sounddevice, "query_devices",
                        lambda **kwargs: {"default_samplerate": 16000.0})
    monkeypatch.setattr(sounddevice, "check_input_settings", lambda **kwargs: None)
    monkeypatch.setattr(sounddevice, "InputStream", DeadStream)
    monkeypatch.setattr(voice_io, "DEVICE_SILENT_S", 0.05)
    with pytest.raises(AudioError, match="stopped sending sound"):
        next(iter(voice_io.MicrophoneSource().frames()))


def test_os1_talk_names_a_corrupt_input_file(tmp_path: Path, setup_record: object) -> None:
    bad = tmp_path / "q.wav"
    bad.write_bytes(b"RIFF....WAVEjunk" * 50)
    result = CliRunner().invoke(cli, ["talk", "--input", str(bad), "--output",
                                      str(tmp_path / "r.wav")], standalone_mode=False)
    assert isinstance(result.exception, AudioError)
    assert "not audio that can be read" in str(result.exception)
    assert not (tmp_path / "r.wav").exists()


@pytest.mark.parametrize(("option", "voice"), [([], "female"), (["--voice", "male"], "male")])
def test_os1_talk_speaks_in_the_voice_chosen_at_setup_unless_told_otherwise(
        tmp_path: Path, setup_record: object, monkeypatch: pytest.MonkeyPatch,
        option: list[str], voice: str) -> None:
    opened: list[str] = []

    def open_voice(name: str) -> object:
        opened.append(name)
        raise AudioError("no voice here")

    monkeypatch.setattr(cli_voice, "SileroVAD", lambda: None)
    monkeypatch.setattr(cli_voice, "WhisperSTT", lambda: None)
    monkeypatch.setattr(cli_voice, "open_voice", open_voice)
    question = tmp_path / "q.wav"
    write_wav(question, tone(0.5))
    result = CliRunner().invoke(cli, ["talk", "--input", str(question), *option],
                                standalone_mode=False)
    assert isinstance(result.exception, AudioError)
    assert opened == [voice]  # the setup's voice is female


def test_a_realtime_file_sink_keeps_her_silences(tmp_path: Path) -> None:
    sink = FileSink(tmp_path / "r.wav", 8000, realtime=True)
    sink.write(tone(0.1, 8000).samples)
    time.sleep(0.3)
    sink.write(tone(0.1, 8000).samples)
    sink.close()
    assert sink.audio().seconds >= 0.45
    assert sink.audio().samples[900:2300].max() == 0, "the 0.3 s gap is silence"


def test_with_steering_her_first_words_come_at_a_long_first_clause_spoken_or_typed(
        db: Database, settings: object, setup_record: object) -> None:
    from os1.mind.steering import Steering

    model = FakeModel()
    model.enqueue("Oh, rainy days are lovely for staying in, with tea and a good book.")
    companion = Companion(model, db, settings, steering=Steering.load())  # type: ignore[arg-type]
    tts = ToneTTS()
    conversation(companion, tone(1.0), RecordingSink(), tts=tts).run()
    assert tts.spoken[0] == "Oh, rainy days are lovely for staying in,"
    typed = Companion(FakeModel(replies=deque(["Oh, rainy days are lovely for staying in, "
                                                "with tea."])), db, settings,  # type: ignore[arg-type]
                      steering=Steering.load())
    pieces = list(typed.reply("And rain?"))
    assert pieces == ["Oh, rainy days are lovely for staying in,", " with tea."]


def test_ctrl_c_cuts_her_off_while_she_speaks_and_ends_the_talk_while_she_listens(
        companion: Companion, fake_model: FakeModel, db: Database) -> None:
    from os1.cli.voice import ctrl_c_handler

    fake_model.enqueue(REPLY)
    sink = RecordingSink()
    talk = conversation(companion, tone(1.0).then(quiet(4.0)), sink, realtime=True,
                        tts=ToneTTS(word_s=0.1), barge_in=False)
    handler = ctrl_c_handler(talk)
    with pytest.raises(KeyboardInterrupt):
        handler(2, None)  # nobody is talking yet: Ctrl-C means leave

    def press_when_she_speaks() -> None:
        sink.started.wait(10)
        time.sleep(0.3)
        handler(2, None)
    presser = threading.Thread(target=press_when_she_speaks)
    presser.start()
    talk.run()
    presser.join()
    assert talk.interruptions
    assert [m[2] for m in stored(db) if m[0] == "assistant"] == ["interrupted"]


@pytest.mark.parametrize("realtime", [True, False])
def test_while_you_speak_her_prompt_is_evaluated_ahead(
        db: Database, settings: object, setup_record: object, realtime: bool) -> None:
    model = PrefillingModel()
    model.enqueue(REPLY)
    companion = Companion(model, db, settings)  # type: ignore[arg-type]
    talk = conversation(companion, quiet(0.5).then(tone(1.0)).then(quiet(1.0)),
                        RecordingSink(), realtime=realtime)
    ready_when_heard: list[int] = []
    talk.notify = lambda kind, _: ready_when_heard.append(len(model.prefilled)) \
        if kind == "listening" else None
    talk.run()
    assert len(model.calls) == 1
    if not realtime:  # a file read at full speed: nothing to win, so nothing is done
        assert model.prefilled == []
        return
    # before the first sound: the prompt up to her spoken note; after the words: the
    # whole prompt the reply then got, so only its last token is left to evaluate; after
    # her reply: the next turn's prompt up to the note, her reply in it
    ready, heard, next_turn = model.prefilled
    assert ready_when_heard == [1]
    assert ready[-2].content.startswith("(We are talking out loud")
    assert "Paris" not in ready[-2].content + ready[-1].content
    assert heard == model.calls[0].messages
    assert next_turn[-3].content == REPLY
    assert next_turn[-2:] == ready[-2:]


def test_a_reminder_is_said_aloud_between_turns_and_is_no_part_of_her_reply(
        companion: Companion, fake_model: FakeModel, db: Database, tmp_path: Path) -> None:
    fake_model.enqueue(REPLY)
    tts = ToneTTS()
    sink = FileSink(tmp_path / "reply.wav", tts.rate, realtime=False)
    talk = conversation(companion, tone(1.0), sink, tts=tts)
    talk.announce('You have "Dentist" in ten minutes.')
    talk.run()
    assert tts.spoken[0] == 'You have "Dentist" in ten minutes.'
    assert " ".join(tts.spoken[1:]) == REPLY
    assert stored(db) == [("user", "What is Paris like?", "complete"),
                          ("assistant", REPLY, "complete")], "the reminder is not her reply"
