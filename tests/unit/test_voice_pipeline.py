"""One conversation engine (os1/voice/pipeline.py) behind both transports: ``os1 talk``
(voice/local_transport.py) and ``/api/voice`` (server/voice_ws.py). Each feature that
used to live in only one of them (speaking ahead, carried-over words, the utterance cap)
is shown here on both, with the same in-process ears and voice and the scripted model."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession

from os1.config import Settings
from os1.llm.base import Message
from os1.llm.fake import FakeModel
from os1.mind.companion import Companion
from os1.server import voice_ws
from os1.storage.db import Database
from os1.voice import pipeline
from os1.voice.audio import Audio, Samples
from os1.voice.events import Done, Heard, Listening, Ready, Thinking, VoiceEvent
from os1.voice.fakes import ScriptedSTT, ToneTTS, quiet, tone
from os1.voice.io import FileSink, PlaybackSource
from os1.voice.local_transport import VoiceConversation
from os1.voice.pipeline import VoiceEngine
from os1.voice.ports import Her, Output, Tell, VoiceParts
from os1.voice.vad import EnergyVAD
from tests.conftest import PrefillingModel
from tests.unit.test_server import GatedModel, serve, sign_up
from tests.unit.test_server_voice import (
    Ears,
    SlowSTT,
    history,
    last,
    open_voice,
    pcm,
    until,
)

WAIT_S = 10.0  # the most a test waits for something that takes milliseconds


class Microphone:
    """A live source (no frame waits for her) that the test speaks into."""

    realtime = True

    def __init__(self) -> None:
        self._frames: queue.Queue[Samples | None] = queue.Queue()

    def say(self, audio: Audio) -> None:
        for frame in PlaybackSource(audio, realtime=False, tail_s=0).frames():
            self._frames.put(frame)

    def hang_up(self) -> None:
        self._frames.put(None)

    def frames(self) -> Iterator[Samples]:
        while (frame := self._frames.get()) is not None:
            yield frame


@contextmanager
def talking(companion: Companion, stt: ScriptedSTT, tmp_path: Path) \
        -> Iterator[tuple[Microphone, VoiceConversation]]:
    """``os1 talk`` running in a thread, its microphone the test's; hung up at the end,
    once everything said has been answered."""
    microphone = Microphone()
    tts = ToneTTS()
    talk = VoiceConversation(companion, VoiceParts(EnergyVAD(), stt, tts), microphone,
                             FileSink(tmp_path / "reply.wav", tts.rate, realtime=False))
    errors: list[BaseException] = []

    def run() -> None:
        try:
            talk.run()
        except BaseException as exc:
            errors.append(exc)

    runner = threading.Thread(target=run)
    runner.start()
    try:
        yield microphone, talk
    finally:
        microphone.hang_up()
        runner.join(WAIT_S * 3)
    assert not runner.is_alive() and errors == []


@contextmanager
def on_the_web(settings: Settings, model: FakeModel, ears: Ears) \
        -> Iterator[tuple[WebSocketTestSession, TestClient, str]]:
    """``/api/voice`` on the test server, logged in as theo."""
    client = serve(settings, model)
    client.app.state.voice_parts = ears.parts  # type: ignore[attr-defined]
    try:
        token = sign_up(client, "theo")
        with open_voice(client, token) as ws:
            yield ws, client, token
    finally:
        client.__exit__(None, None, None)


def send(ws: WebSocketTestSession, audio: Audio) -> None:
    for frame in pcm(audio):
        ws.send_bytes(frame)


def until_listening(ws: WebSocketTestSession) -> None:
    """Frames up to ``{"type": "state", "state": "listening"}``."""
    while until(ws, "state")[-1] != {"type": "state", "state": "listening"}:
        pass


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "it never happened"
        time.sleep(0.01)


def stored(db: Database) -> list[tuple[str, str]]:
    return [(r["role"], r["content"]) for r in db.execute(
        "SELECT role, content FROM messages ORDER BY id")]


# -- both transports run the one engine --------------------------------------------------


def test_os1_talk_and_the_web_run_the_one_engine_and_tell_the_same_turn(
        companion: Companion, fake_model: FakeModel, settings: Settings,
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Whatever a transport does, the engine decides what happens: the same speech gives
    the same events, in the same order, through either."""
    told: dict[str, list[type]] = {}
    init = VoiceEngine.__init__

    def recording_init(engine: VoiceEngine, parts: VoiceParts, her: Her, output: Output,
                       tell: Tell, **options: Any) -> None:
        events = told.setdefault("talk" if not told else "web", [])

        async def recording(event: VoiceEvent) -> None:
            events.append(type(event))
            await tell(event)
        init(engine, parts, her, output, recording, **options)

    monkeypatch.setattr(VoiceEngine, "__init__", recording_init)
    fake_model.enqueue("Paris is lovely.")
    talk = VoiceConversation(
        companion, VoiceParts(EnergyVAD(), ScriptedSTT(default="Tell me about Paris."),
                              ToneTTS()),
        PlaybackSource(quiet(0.3).then(tone(1.0)), realtime=False),
        FileSink(tmp_path / "r.wav", 8000, realtime=False))
    talk.run()
    model = FakeModel()
    model.enqueue("Paris is lovely.")
    ears = Ears(ScriptedSTT(default="Tell me about Paris."))
    with on_the_web(settings, model, ears) as (ws, _, _):
        send(ws, quiet(0.3).then(tone(1.0)).then(quiet(2.5)))
        until(ws, "done")
        until_listening(ws)
    turn = [Listening, Thinking, Heard, Done, Ready]
    assert [e for e in told["talk"] if e in turn] == turn
    assert [e for e in told["web"] if e in turn] == turn


# -- speaking ahead: her prompt evaluated while you talk ---------------------------------


class Anticipating(PrefillingModel):
    """Notes when it was asked to evaluate a prompt with the user's words in it."""

    def __init__(self) -> None:
        super().__init__()
        self.words = threading.Event()

    def prefill(self, messages: Sequence[Message]) -> None:
        super().prefill(messages)
        if "Paris" in json.dumps([m.content for m in messages]):
            self.words.set()


def assert_evaluated_ahead(model: Anticipating) -> None:
    """Before a word, the prompt up to her note that she is speaking; during their pause,
    the whole prompt the reply then got (only its last token left to evaluate)."""
    ready, *rest = model.prefilled
    assert "Paris" not in json.dumps([m.content for m in ready])
    assert ready[-2].content.startswith("(We are talking out loud")
    ahead = [p for p in rest if "Paris" in json.dumps([m.content for m in p])]
    assert ahead and ahead[0] == model.calls[0].messages


def test_os1_talk_evaluates_her_prompt_ahead_while_you_speak(
        db: Database, settings: Settings, setup_record: object, tmp_path: Path) -> None:
    model = Anticipating()
    model.enqueue("Lovely in spring.")
    stt = ScriptedSTT(default="What is Paris like?")
    with talking(Companion(model, db, settings), stt, tmp_path) as (microphone, _):
        microphone.say(quiet(0.3).then(tone(1.0)).then(quiet(0.4)))  # a pause, not an end
        assert model.words.wait(WAIT_S), "nothing was evaluated while they paused"
        microphone.say(quiet(2.0))
    assert_evaluated_ahead(model)
    assert stored(db) == [("user", "What is Paris like?"), ("assistant", "Lovely in spring.")]


def test_the_web_evaluates_her_prompt_ahead_while_you_speak(settings: Settings) -> None:
    model = Anticipating()
    model.enqueue("Lovely in spring.")
    with on_the_web(settings, model, Ears(ScriptedSTT(default="What is Paris like?"))) \
            as (ws, client, token):
        send(ws, quiet(0.3).then(tone(1.0)).then(quiet(0.4)))  # a pause, not an end
        assert model.words.wait(WAIT_S), "nothing was evaluated while they paused"
        send(ws, quiet(2.0))
        assert last(until(ws, "done"))["status"] == "complete"
        assert [m["content"] for m in history(client, token)] == [
            "What is Paris like?", "Lovely in spring."]
    assert_evaluated_ahead(model)


class GatedAnticipating(GatedModel):
    def __init__(self) -> None:
        super().__init__()
        self.prefilled: list[list[Message]] = []

    def prefill(self, messages: Sequence[Message]) -> None:
        self.prefilled.append(list(messages))


def test_the_web_evaluates_ahead_only_while_the_model_is_free(settings: Settings) -> None:
    """The model is everyone's: a head start for one voice never makes another person's
    turn wait. While someone's typed reply is under way, nothing is evaluated ahead."""
    model = GatedAnticipating()
    model.release.clear()
    client = serve(settings, model)
    client.app.state.voice_parts = Ears(ScriptedSTT(default="Hello?")).parts  # type: ignore[attr-defined]
    try:
        theo, amy = sign_up(client, "theo"), sign_up(client, "amy")
        with client.websocket_connect("/api/conversation") as text:
            text.send_json({"type": "auth", "token": theo})
            assert text.receive_json()["type"] == "ready"
            text.send_json({"type": "message", "text": "Hello there."})
            assert text.receive_json()["type"] == "accepted"
            with open_voice(client, amy) as ws:
                send(ws, quiet(0.3).then(tone(1.0)).then(quiet(2.5)))
                until(ws, "heard")  # her turn waits for theo's; all before it is done
                assert model.prefilled == []
                model.release.set()
                assert last(until(ws, "done"))["status"] == "complete"
            while text.receive_json()["type"] != "done":
                pass
    finally:
        model.release.set()
        client.__exit__(None, None, None)


# -- carried-over words: talking on after a pause, before she began -----------------------

FIRST, THEN = "I went to the shop,", "and then I saw a fox."


def test_os1_talk_joins_words_said_on_after_a_pause_into_one_turn(
        companion: Companion, fake_model: FakeModel, db: Database, tmp_path: Path) -> None:
    fake_model.enqueue("A fox! Where?")
    stt = SlowSTT(deque([FIRST, THEN]))
    with talking(companion, stt, tmp_path) as (microphone, talk):
        microphone.say(quiet(0.3).then(tone(1.0)).then(quiet(2.0)))  # long enough to end
        microphone.say(tone(1.0))  # ... but they go on while she is still transcribing
        wait_for(lambda: bool(talk.interruptions))
        stt.release.set()
        microphone.say(quiet(2.5))
    assert stored(db) == [("user", f"{FIRST} {THEN}"), ("assistant", "A fox! Where?")]
    assert [t.heard for t in talk.timings] == [f"{FIRST} {THEN}"]


def test_the_web_joins_words_said_on_after_a_pause_into_one_turn(settings: Settings) -> None:
    model = FakeModel()
    model.enqueue("A fox! Where?")
    ears = Ears(SlowSTT(deque([FIRST, THEN])))
    with on_the_web(settings, model, ears) as (ws, client, token):
        send(ws, quiet(0.3).then(tone(1.0)).then(quiet(2.0)))  # long enough to end
        send(ws, tone(1.0))  # ... but they go on while she is still transcribing
        until_listening(ws)  # she was cut off before her reply began
        assert isinstance(ears.stt, SlowSTT)
        ears.stt.release.set()
        send(ws, quiet(2.5))
        frames = until(ws, "done")
        heard = [f for f in frames if isinstance(f, dict) and f["type"] == "heard"]
        assert heard == [{"type": "heard", "text": f"{FIRST} {THEN}"}]
        assert [m["content"] for m in history(client, token)] == [
            f"{FIRST} {THEN}", "A fox! Where?"]


# -- the utterance cap: a monologue is answered where it got to ---------------------------

CAP_S = 2.0
MOST_HEARD_S = CAP_S + 0.3 + 0.1  # the cap, the detector's pre-roll and a frame


def test_os1_talk_answers_a_monologue_at_the_utterance_cap(
        companion: Companion, fake_model: FakeModel, db: Database, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "MAX_UTTERANCE_S", CAP_S)
    fake_model.enqueue("That was a lot.", "Go on.", "I see.")
    stt = ScriptedSTT(default="On and on.")
    talk = VoiceConversation(companion, VoiceParts(EnergyVAD(), stt, ToneTTS()),
                             PlaybackSource(tone(6.0), realtime=False, tail_s=0),
                             FileSink(tmp_path / "r.wav", 8000, realtime=False))
    talk.run()
    # six seconds without a pause: answered in bounded pieces, each when the cap came
    lengths = [a.seconds for a in stt.heard]
    assert len(lengths) >= 3 and sum(lengths) > 5.0
    assert all(seconds <= MOST_HEARD_S for seconds in lengths), lengths
    assert [role for role, _ in stored(db)] == ["user", "assistant"] * 3


def test_the_web_answers_a_monologue_at_the_utterance_cap(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_ws, "MAX_UTTERANCE_S", CAP_S)
    model = FakeModel()
    model.enqueue("That was a lot.")
    ears = Ears(ScriptedSTT(default="On and on."))
    with on_the_web(settings, model, ears) as (ws, _, _):
        send(ws, tone(6.0))  # six seconds, and they never pause
        assert until(ws, "done")  # answered all the same
    lengths = [a.seconds for a in ears.stt.heard]
    assert len(lengths) >= 2 and sum(lengths) > 4.0
    assert all(seconds <= MOST_HEARD_S for seconds in lengths), lengths
