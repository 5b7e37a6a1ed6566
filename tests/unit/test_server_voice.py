"""``/api/voice`` on the scripted model with in-process ears and voice (a loudness VAD,
scripted transcripts, a tone for her voice): the protocol end to end, barge-in, bad and
oversize frames, bounded buffering and privacy. The same route runs on real Whisper, TTS
and the bundled model behind Chromium in tests/integration/test_web_voice_real.py."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.server import voice_ws
from os1.server.voice_ws import Timeline
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import Audio
from os1.voice.fakes import ScriptedSTT, ToneTTS, quiet, tone
from os1.voice.ports import VoiceParts
from os1.voice.vad import EnergyVAD
from tests.conftest import make_setup_record
from tests.unit.test_server import PASSWORD, GatedModel, auth, serve, sign_up

QUESTION = "What is the capital of France?"
REPLY = "Paris is the capital of France. It sits on the Seine. I went there once."


@dataclass
class Ears:
    """What the fake parts were asked for and given."""

    stt: ScriptedSTT = field(default_factory=ScriptedSTT)
    tts: ToneTTS = field(default_factory=ToneTTS)
    voices: list[str] = field(default_factory=list)

    def parts(self, voice: str) -> VoiceParts:
        self.voices.append(voice)
        return VoiceParts(EnergyVAD(), self.stt, self.tts)


@dataclass
class Clock:
    """Where the client's playback is, as the server estimates it: moved by the test."""

    now: float = 0.0
    step: float = 0.0  # how far it moves each time it is read

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def model() -> FakeModel:
    return FakeModel()


@pytest.fixture
def ears() -> Ears:
    return Ears(ScriptedSTT(deque([QUESTION]), default="Tell me more."))


@pytest.fixture
def client(settings: Settings, model: FakeModel, ears: Ears) -> Iterator[TestClient]:
    client = serve(settings, model)
    client.app.state.voice_parts = ears.parts  # type: ignore[attr-defined]
    yield client
    client.__exit__(None, None, None)


def pcm(audio: Audio) -> list[bytes]:
    """``audio`` as the browser sends it: int16 frames of 1,024 samples."""
    samples = (np.clip(audio.samples, -1, 1) * 32767).astype("<i2")
    return [samples[i:i + 1024].tobytes() for i in range(0, len(samples), 1024)]


def speak(ws: WebSocketTestSession, seconds: float = 1.0, then_quiet: float = 2.5) -> None:
    for frame in pcm(quiet(0.3).then(tone(seconds)).then(quiet(then_quiet))):
        ws.send_bytes(frame)


@contextmanager
def open_voice(client: TestClient, token: str) -> Iterator[WebSocketTestSession]:
    with client.websocket_connect("/api/voice") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "ready"
        assert ws.receive_json() == {"type": "state", "state": "listening"}
        yield ws


Frame = dict[str, Any] | bytes


def receive(ws: WebSocketTestSession) -> Frame:
    message = ws.receive()
    if message.get("bytes") is not None:
        return bytes(message["bytes"])
    return dict(json.loads(message["text"]))


def until(ws: WebSocketTestSession, kind: str) -> list[Frame]:
    """Frames up to and including the first JSON frame of type ``kind``."""
    got = [receive(ws)]
    while isinstance(got[-1], bytes) or got[-1]["type"] != kind:
        got.append(receive(ws))
    return got


def last(frames: list[Frame]) -> dict[str, Any]:
    frame = frames[-1]
    assert isinstance(frame, dict)
    return frame


def of(frames: list[Frame], kind: str) -> list[dict[str, Any]]:
    return [f for f in frames if isinstance(f, dict) and f["type"] == kind]


def history(client: TestClient, token: str) -> list[dict[str, Any]]:
    return list(client.get("/api/history", headers=auth(token)).json())


# -- a spoken turn -----------------------------------------------------------------------


def test_a_spoken_turn_is_heard_answered_spoken_and_stored(
        client: TestClient, model: FakeModel, ears: Ears) -> None:
    model.enqueue(REPLY)
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws)
        frames = until(ws, "done")
        states = [f["state"] for f in of(frames, "state")]
        assert states == ["thinking", "speaking"]
        assert of(frames, "heard") == [{"type": "heard", "text": QUESTION}]
        assert "".join(f["text"] for f in of(frames, "piece")) == REPLY
        # Her voice: one header per sentence, each followed by exactly its samples.
        headers = of(frames, "audio")
        assert len(headers) == 3 and all(h["rate"] == ears.tts.rate for h in headers)
        audio = [f for f in frames if isinstance(f, bytes)]
        assert sum(len(a) for a in audio) == 2 * sum(h["samples"] for h in headers) > 0
        first_audio = next(i for i, f in enumerate(frames) if isinstance(f, bytes))
        assert frames.index(of(frames, "state")[1]) < first_audio  # "speaking" came first
        assert ears.tts.spoken == ["Paris is the capital of France.", "It sits on the Seine.",
                                   "I went there once."]
        assert last(frames)["status"] == "complete"
        assert receive(ws) == {"type": "state", "state": "listening"}
        # The speech reached Whisper's stand-in at 16 kHz, about as long as it was spoken.
        assert ears.stt.heard and all(a.rate == 16_000 for a in ears.stt.heard)
        assert 1.0 <= sum(a.seconds for a in ears.stt.heard) < 2.0
    stored = history(client, token)
    assert [(m["role"], m["content"], m["status"]) for m in stored] == [
        ("user", QUESTION, "complete"), ("assistant", REPLY, "complete")]
    assert last(frames)["message_id"] == stored[-1]["id"]
    # She was told the turn is spoken, and her voice is the one chosen at setup.
    assert "aloud" in json.dumps([m.content for m in model.calls[-1].messages]).lower() \
        or "speak" in json.dumps([m.content for m in model.calls[-1].messages]).lower()
    assert ears.voices == ["female"]


def test_two_turns_on_one_connection(client: TestClient, model: FakeModel) -> None:
    model.enqueue("Paris.", "It is lovely in spring.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws)
        until(ws, "done")
        speak(ws)
        second = until(ws, "done")
        assert of(second, "heard")[0]["text"] == "Tell me more."
        assert last(second)["status"] == "complete"
    assert [m["content"] for m in history(client, token)] == [
        QUESTION, "Paris.", "Tell me more.", "It is lovely in spring."]


def test_a_click_is_not_a_turn(client: TestClient, ears: Ears) -> None:
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws, seconds=0.1)
        speak(ws)  # a real turn after it shows the click was passed over
        frames = until(ws, "done")
        assert [f["state"] for f in of(frames, "state")] == ["thinking", "speaking"]
        assert len(of(frames, "heard")) == 1 and not of(frames, "unheard")
    assert [m["role"] for m in history(client, token)] == ["user", "assistant"]


# -- barge-in ----------------------------------------------------------------------------


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(voice_ws, "clock", clock)
    return clock


def slow_voice(ears: Ears) -> None:
    ears.tts.word_s = 0.5  # her first sentence takes seconds to say


@contextmanager
def her_voice_coming(client: TestClient, model: FakeModel,
                     ears: Ears) -> Iterator[tuple[WebSocketTestSession, str, list[Frame]]]:
    """A spoken question, and her reply's voice on its way (slowly: seconds a sentence);
    the connection, the login and the frames so far."""
    slow_voice(ears)
    model.enqueue(REPLY)
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws)
        yield ws, token, until(ws, "audio")


def test_interrupt_frame_stops_her_voice_and_stores_what_was_heard(
        client: TestClient, model: FakeModel, ears: Ears, clock: Clock) -> None:
    with her_voice_coming(client, model, ears) as (ws, token, before):
        assert of(before, "state")[-1]["state"] == "speaking"
        assert isinstance(receive(ws), bytes)
        clock.now += 1.5  # 1.5 s of her first sentence (3.0 s long) has been played
        ws.send_json({"type": "interrupt"})
        after = until(ws, "state")
        assert after[-1] == {"type": "state", "state": "listening"}
        done = until(ws, "done")
        assert not [f for f in done if isinstance(f, bytes)], "audio after she was cut off"
        assert last(done)["status"] == "interrupted"
        sent = sum(len(f) for f in [*before, *after] if isinstance(f, bytes)) // 2
        # Her voice was sent a little ahead of playback, not all at once.
        assert sent < sum(h["samples"] for h in of(before + after, "audio")) \
            or len(of(before + after, "audio")) < 3
        assert sent <= ears.tts.rate * (1.5 + voice_ws.LEAD_S + voice_ws.AUDIO_CHUNK_S * 2)
    stored = history(client, token)
    assert [(m["role"], m["status"]) for m in stored] == [("user", "complete"),
                                                          ("assistant", "interrupted")]
    said = stored[-1]["content"]
    # 1.25 s had been sent (LEAD_S ahead, in 0.25 s frames) when the clock moved on,
    # so 1.25 of its 3 s were heard: two of its six words.
    assert said == "Paris is"
    # ... and the page is told exactly that, to show what was heard, not all she wrote
    assert (last(done)["said"], last(done)["message_id"]) == (said, stored[-1]["id"])


def test_cut_off_before_a_word_was_heard_nothing_of_hers_is_stored(
        client: TestClient, model: FakeModel, ears: Ears, clock: Clock) -> None:
    with her_voice_coming(client, model, ears) as (ws, token, _):
        # her first frame is on its way, and the clock stands still
        ws.send_json({"type": "interrupt"})
        done = last(until(ws, "done"))
    assert (done["status"], done["said"], done["message_id"]) == ("interrupted", "", None)
    assert [m["role"] for m in history(client, token)] == ["user"]


def test_talking_over_her_cuts_her_off_and_is_heard_as_the_next_turn(
        client: TestClient, model: FakeModel, ears: Ears, clock: Clock) -> None:
    slow_voice(ears)
    model.enqueue(REPLY, "Oh, sorry. Go on.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws)
        until(ws, "audio")
        clock.now += 3.5  # all she had been sent (1.25 s) has been played
        speak(ws)  # ... and now they talk over her
        cut = until(ws, "state")
        assert cut[-1] == {"type": "state", "state": "listening"}
        done = until(ws, "done")
        assert last(done)["status"] == "interrupted"
        clock.step = 1.0  # from here on, time passes
        nxt = until(ws, "done")
        assert of(nxt, "heard")[0]["text"] == "Tell me more."
        assert last(nxt)["status"] == "complete"
    stored = [(m["role"], m["content"], m["status"]) for m in history(client, token)]
    assert stored == [("user", QUESTION, "complete"),
                      ("assistant", "Paris is", "interrupted"),
                      ("user", "Tell me more.", "complete"),
                      ("assistant", "Oh, sorry. Go on.", "complete")]


# -- said between turns (a reminder the page passes on) ----------------------------------

REMINDER = "You have the dentist in five minutes."


def test_a_reminder_passed_on_by_the_page_is_said_aloud_and_not_stored(
        client: TestClient, model: FakeModel, ears: Ears) -> None:
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        ws.send_json({"type": "say", "text": REMINDER})
        frames = until(ws, "said")
        assert [f["state"] for f in of(frames, "state")] == ["speaking"]
        header = of(frames, "audio")[0]
        audio = [f for f in frames if isinstance(f, bytes)]
        assert sum(len(a) for a in audio) == 2 * header["samples"] > 0
        assert last(frames)["status"] == "complete"
        assert receive(ws) == {"type": "state", "state": "listening"}
        assert ears.tts.spoken == [REMINDER]
    assert history(client, token) == [] and model.calls == []


def test_a_reminder_waits_until_her_reply_has_been_heard(
        client: TestClient, model: FakeModel, ears: Ears, clock: Clock) -> None:
    slow_voice(ears)
    model.enqueue("Paris is lovely.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws)
        until(ws, "audio")
        ws.send_json({"type": "say", "text": REMINDER})  # arrives while she answers
        clock.step = 1.0  # from here on, time passes
        frames = until(ws, "said")
        kinds = [f["type"] for f in frames if isinstance(f, dict)]
        assert kinds.index("done") < kinds.index("said")
        assert last(frames)["status"] == "complete"
    assert ears.tts.spoken == ["Paris is lovely.", REMINDER]
    assert [m["content"] for m in history(client, token)] == [QUESTION, "Paris is lovely."]


def test_talking_over_a_reminder_cuts_it_off_and_is_heard(
        client: TestClient, model: FakeModel, ears: Ears, clock: Clock) -> None:
    slow_voice(ears)
    model.enqueue("Oh, sorry. Go on.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        ws.send_json({"type": "say", "text": REMINDER})
        until(ws, "audio")
        speak(ws)  # they talk over the reminder
        assert until(ws, "state")[-1] == {"type": "state", "state": "listening"}
        said = until(ws, "said")
        assert last(said)["status"] == "interrupted"
        assert not [f for f in said if isinstance(f, bytes)], "audio after she was cut off"
        clock.step = 1.0
        turn = until(ws, "done")
        assert of(turn, "heard")[0]["text"] == QUESTION
    assert [m["content"] for m in history(client, token)] == [QUESTION, "Oh, sorry. Go on."]


@pytest.mark.parametrize("text", ["", "   ", 42, None, "x" * (voice_ws.MAX_SAY_CHARS + 1)])
def test_a_say_frame_without_proper_text_gets_a_clear_error(
        client: TestClient, ears: Ears, text: object) -> None:
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        ws.send_json({"type": "say", "text": text})
        error = ws.receive_json()
        assert error["code"] == "bad_frame" and "500 characters" in error["message"]
        ws.send_json({"type": "say", "text": "Still here."})
        assert last(until(ws, "said"))["status"] == "complete"
    assert ears.tts.spoken == ["Still here."]


def test_what_she_said_follows_the_playback_estimate() -> None:
    timeline = Timeline()
    timeline.add(0, "one two three four", 1.0, 1.0, 2.0, now=10.0)
    timeline.add(0, "one two three four", 1.0, 2.0, 2.0, now=10.0)
    timeline.add(1, "five six", 1.0, 1.0, 1.0, now=10.0)
    assert timeline.end == 13.0 and timeline.ahead(10.5) == 2.5
    assert timeline.said(10.0) == ""
    assert timeline.said(11.0) == "one two"
    assert timeline.said(12.0) == "one two three four"
    assert timeline.said(12.5) == "one two three four five"
    assert timeline.said(13.0) == "one two three four five six"
    late = Timeline()
    late.add(0, "a b", 1.0, 1.0, 1.0, now=0.0)
    late.add(1, "c d", 1.0, 1.0, 1.0, now=5.0)  # playback ran dry: it starts on arrival
    assert late.end == 6.0 and late.said(5.5) == "a b c"


# -- bad input and limits ----------------------------------------------------------------


def test_a_bad_token_is_refused_with_4401(client: TestClient) -> None:
    with client.websocket_connect("/api/voice") as ws:
        ws.send_json({"type": "auth", "token": "nope"})
        assert ws.receive_json()["code"] == "unauthorised"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_audio_before_auth_is_refused(client: TestClient) -> None:
    with client.websocket_connect("/api/voice") as ws:
        ws.send_bytes(b"\x00\x01" * 100)
        refused = ws.receive_json()
        assert refused["code"] == "unauthorised" and "text frame" in refused["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 4401


def test_malformed_frames_get_clear_errors_and_the_talk_goes_on(
        client: TestClient, model: FakeModel) -> None:
    model.enqueue("Paris.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        ws.send_bytes(b"\x01\x02\x03")
        odd = ws.receive_json()
        assert odd["code"] == "bad_audio" and "even number" in odd["message"]
        ws.send_text("not json")
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "message", "text": "hello"})
        assert "interrupt" in ws.receive_json()["message"]
        speak(ws)
        assert last(until(ws, "done"))["status"] == "complete"


def test_an_oversize_frame_closes_with_1009(client: TestClient) -> None:
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        ws.send_bytes(b"\x00" * (voice_ws.MAX_AUDIO_FRAME_BYTES + 2))
        error = ws.receive_json()
        assert error["code"] == "too_big" and "64,000" in error["message"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1009


def test_a_monologue_is_answered_at_the_utterance_limit(
        client: TestClient, model: FakeModel, ears: Ears,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(voice_ws, "MAX_UTTERANCE_S", 2.0)
    model.enqueue("That was a lot.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        for frame in pcm(tone(6.0)):  # six seconds without a pause
            ws.send_bytes(frame)
        frames = until(ws, "done")  # answered although they never paused
        assert of(frames, "heard")
    # Each utterance handed to speech-to-text is at most the limit, its pre-roll and a
    # frame: the six seconds went as bounded pieces, never buffered whole.
    lengths = [a.seconds for a in ears.stt.heard]
    assert len(lengths) >= 2 and sum(lengths) > 4.0
    assert all(a <= 2.0 + 0.3 + 0.1 for a in lengths), lengths


def test_without_the_voice_extra_she_says_so(client: TestClient) -> None:
    from os1.voice.audio import missing_voice_extra

    def missing(voice: str) -> VoiceParts:
        raise missing_voice_extra("faster-whisper")

    client.app.state.voice_parts = missing  # type: ignore[attr-defined]
    token = sign_up(client, "theo")
    with client.websocket_connect("/api/voice") as ws:
        ws.send_json({"type": "auth", "token": token})
        assert ws.receive_json()["type"] == "ready"
        error = ws.receive_json()
        assert error["code"] == "voice_unavailable"
        assert "faster-whisper" in error["message"] and "voice" in error["hint"]
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
    assert closed.value.code == 1011


def test_a_voice_turn_belongs_to_the_speaker_only(client: TestClient, model: FakeModel,
                                                  ears: Ears) -> None:
    model.enqueue("Paris, Alice.")
    alice, bob = sign_up(client, "alice"), sign_up(client, "bob")
    with open_voice(client, alice) as ws:
        speak(ws)
        until(ws, "done")
    assert [m["content"] for m in history(client, alice)] == [QUESTION, "Paris, Alice."]
    assert history(client, bob) == []
    with client.websocket_connect("/api/conversation") as text:
        text.send_json({"type": "auth", "token": bob})
        assert text.receive_json()["type"] == "ready"
        text.send_json({"type": "message", "text": "What did I just ask?"})
        frames = [text.receive_json()]
        while frames[-1]["type"] != "done":
            frames.append(text.receive_json())
    prompt = json.dumps([m.content for m in model.calls[-1].messages])
    assert "capital of France" not in prompt and "Paris, Alice" not in prompt


def test_her_voice_is_the_one_chosen_at_setup(client: TestClient, settings: Settings,
                                              ears: Ears) -> None:
    token = sign_up(client, "theo")
    account = client.app.state.os1.accounts.account_for(token)  # type: ignore[attr-defined]
    db = Database.open(settings.storage)
    try:
        SetupStore(db, account.user_id).save(make_setup_record(voice="male"))
    finally:
        db.close()
    with open_voice(client, token):
        pass
    with open_voice(client, sign_up(client, "ada")):  # no setup yet: the default
        pass
    assert ears.voices == ["male", "female"]


@dataclass
class SlowSTT(ScriptedSTT):
    """The n-th audio gets the n-th text; the first is held until ``release`` is set."""

    release: threading.Event = field(default_factory=threading.Event)

    def transcribe(self, audio: Audio, prompt: str = "") -> str:
        self.heard.append(audio)
        number = len(self.heard) - 1
        if number == 0:
            self.release.wait(10)
        return self.texts[number]


def test_talking_on_after_a_pause_joins_the_words_into_one_turn(
        client: TestClient, model: FakeModel, ears: Ears) -> None:
    ears.stt = SlowSTT(deque(["I went to the shop,", "and then I saw a fox."]))
    model.enqueue("A fox! Where?")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        speak(ws, then_quiet=2.0)  # a pause long enough to end a turn...
        assert receive(ws) == {"type": "state", "state": "thinking"}
        speak(ws)  # ... but they go on while she is still transcribing
        ears.stt.release.set()
        frames = until(ws, "done")
        assert of(frames, "heard") == [
            {"type": "heard", "text": "I went to the shop, and then I saw a fox."}]
        assert last(frames)["status"] == "complete"
    assert [m["content"] for m in history(client, token)] == [
        "I went to the shop, and then I saw a fox.", "A fox! Where?"]


def test_voice_and_text_share_her_turn_queue(settings: Settings, ears: Ears) -> None:
    """One turn per person at a time, spoken or typed: a voice turn while their typed
    message is being answered is told she is busy (and not stored: they say it again)."""
    model = GatedModel()
    model.release.clear()
    client = serve(settings, model)
    client.app.state.voice_parts = ears.parts  # type: ignore[attr-defined]
    try:
        token = sign_up(client, "theo")
        with client.websocket_connect("/api/conversation") as text, \
                open_voice(client, token) as ws:
            text.send_json({"type": "auth", "token": token})
            assert text.receive_json()["type"] == "ready"
            text.send_json({"type": "message", "text": "Hello there."})
            assert text.receive_json()["type"] == "accepted"
            speak(ws)
            frames = until(ws, "error")
            assert last(frames)["code"] == "busy"
            assert of(frames, "heard")[0]["text"] == QUESTION
            model.release.set()
            while text.receive_json()["type"] != "done":
                pass
        assert [m["content"] for m in history(client, token)] == [
            "Hello there.", "You said: Hello there."]
    finally:
        model.release.set()
        client.__exit__(None, None, None)


def test_logging_out_everywhere_ends_a_voice_conversation_at_its_next_turn(
        client: TestClient, model: FakeModel) -> None:
    model.enqueue("Paris.")
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        assert client.delete("/api/sessions", headers=auth(token)).status_code == 204
        speak(ws)
        refused = last(until(ws, "error"))
        assert refused["code"] == "unauthorised" and "revoked" in refused["message"]
    assert [m["role"] for m in history_of_nobody(client)] == []
    assert model.calls == []


def history_of_nobody(client: TestClient) -> list[dict[str, Any]]:
    """Nothing was stored for the turn: a new login sees an empty history."""
    again = client.post("/api/sessions", json={"username": "theo", "password": PASSWORD})
    return history(client, again.json()["token"])


# -- an attacker past (and before) login (issue 25) -----------------------------------------


def test_frames_that_crashed_the_parser_or_logged_in_as_audio_are_refused(
        client: TestClient) -> None:
    """60,000 nested brackets (under the frame limit) raised RecursionError before login;
    a binary frame holding the auth JSON logged in, though binary frames are audio."""
    token = sign_up(client, "theo")
    for first in ("[" * 60_000 + "]" * 60_000, json.dumps({"type": "auth", "token": token})
                  .encode()):
        with client.websocket_connect("/api/voice") as ws:
            if isinstance(first, bytes):
                ws.send_bytes(first)
            else:
                ws.send_text(first)
            assert ws.receive_json()["code"] == "unauthorised"
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive_json()
            assert closed.value.code == 4401


def test_after_login_a_deep_frame_or_another_persons_token_changes_nothing(
        client: TestClient, model: FakeModel) -> None:
    model.enqueue("Paris.")
    theo, amy = sign_up(client, "theo"), sign_up(client, "amy")
    with open_voice(client, theo) as ws:
        ws.send_text("[" * 30_000 + "]" * 30_000)
        assert ws.receive_json()["code"] == "bad_frame"
        ws.send_json({"type": "auth", "token": amy})  # "I am Amy now"
        assert ws.receive_json()["code"] == "bad_frame"
        speak(ws)
        assert last(until(ws, "done"))["status"] == "complete"
    assert [m["content"] for m in history(client, theo)] == [QUESTION, "Paris."]
    assert history(client, amy) == []


def test_a_token_revoked_while_audio_streams_ends_it_before_anything_is_transcribed(
        client: TestClient, model: FakeModel, ears: Ears) -> None:
    token = sign_up(client, "theo")
    with open_voice(client, token) as ws:
        for frame in pcm(quiet(0.5)):  # the microphone is streaming...
            ws.send_bytes(frame)
        assert client.delete("/api/sessions", headers=auth(token)).status_code == 204
        speak(ws)  # ... and they speak after their logins were revoked elsewhere
        frames = until(ws, "error")
        assert last(frames)["code"] == "unauthorised" and not of(frames, "heard")
        message = ws.receive()
        while message["type"] != "websocket.close":  # the state frames sent before it
            message = ws.receive()
        assert message["code"] == 4401
    assert ears.stt.heard == [], "Whisper ran for a revoked token"
    assert model.calls == []


def test_say_frames_are_bounded_and_need_a_live_login(
        client: TestClient, ears: Ears, clock: Clock) -> None:
    """Each say frame got a task and a synthesis of her voice, however many came."""
    token = sign_up(client, "theo")
    long_text = " ".join(["word"] * 100)  # seconds of her voice, and the clock stands still
    with open_voice(client, token) as ws:
        for _ in range(10):
            ws.send_json({"type": "say", "text": long_text})
        errors: list[dict[str, Any]] = []
        while len(errors) < 10 - voice_ws.MAX_SAYS_WAITING:
            frame = receive(ws)
            if isinstance(frame, dict) and frame["type"] == "error":
                errors.append(frame)
        assert {e["code"] for e in errors} == {"busy"}
    assert len(ears.tts.spoken) <= voice_ws.MAX_SAYS_WAITING
    with open_voice(client, token) as ws:
        assert client.delete("/api/sessions", headers=auth(token)).status_code == 204
        ws.send_json({"type": "say", "text": "Your meeting starts in five minutes."})
        refused = ws.receive_json()
        assert refused["code"] == "unauthorised"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 4401
