"""Voice mode in the browser for real: ``os1 serve`` with the bundled model, Whisper and
her Festival voice, and headless Chromium (Debian's, through Playwright) whose microphone
is a WAV file (Chromium's fake audio capture) of os1's own TTS asking a question. Logged
in through the page, the voice button is pressed: the page must show the words it heard,
her reply as she writes it and the state of the turn, and her voice must come back as
audio while the page never asks another host for anything nor breaks its CSP. A calendar
reminder that falls due while voice is on is shown and said aloud. And talked over in the
middle of a sentence (a microphone the test speaks into when it chooses), she falls
silent at once, the page shows what she got to say, marked as interrupted, exactly as it
is stored, and what cut her off is heard and answered as the next turn. Voice mode comes
back by itself after the server restarts, and the state shown is the voice's again once
the text connection, which may come back later, is back. Spoken to a server too busy to
take the turn, the page says so and sends the words heard as a typed message, which waits
its turn and is answered and stored once."""

from __future__ import annotations

import json
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, WebSocketRoute, expect, sync_playwright
from websockets.sync.client import connect

from os1.config import load_settings
from os1.server.accounts import AccountStore
from os1.server.minds import setup_for
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import Audio, resample, write_wav
from os1.voice.tts import open_voice
from tests.browser import CHROMIUM, Watched, open_page, real_server
from tests.integration.test_server_real import PASSWORD, Server
from tests.integration.test_web_real import add_event_soon

pytestmark = pytest.mark.integration

LONG = 240_000  # ms: Whisper and the voice loading, then a reply on two cores
QUESTION = "What is the capital of France?"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voice")


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[Server]:
    with real_server(home) as server:
        yield server


@pytest.fixture(scope="module")
def microphone(home: Path) -> Path:
    """The question in os1's male voice (Piper), after a second of quiet and followed by
    two minutes of it: Chromium loops the file, and she must have answered and said the
    reminder before it asks again."""
    spoken = open_voice("male").synthesize(QUESTION)
    audio = Audio.silence(1.0, 48_000).then(resample(spoken, 48_000)) \
        .then(Audio.silence(120.0, 48_000))
    path = home / "question.wav"
    write_wav(path, audio)
    return path


@pytest.fixture(scope="module")
def browser(microphone: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                  f"--use-file-for-fake-audio-capture={microphone}",
                  "--autoplay-policy=no-user-gesture-required"])
        try:
            yield browser
        finally:
            browser.close()


def set_up(server: Server, home: Path, username: str) -> str:
    """An account whose first-run setup is done, as the server does on a first message
    (the page's setup, with the model choosing her name, is tested in test_web_real)."""
    token = server.token(username)
    db = Database.open(load_settings({"OS1_HOME": str(home / "home")}).storage)
    try:
        account = AccountStore(db).account_for(token)
        SetupStore(db, account.user_id).save(setup_for(account))
    finally:
        db.close()
    return token


def voice_on(page: Page, server: Server, username: str) -> Locator:
    """Logged in through the page, voice mode turned on; the voice button."""
    page.goto(server.url)
    page.locator("#login-username").fill(username)
    page.locator("#login-password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    toggle = page.locator("#voice-toggle")
    expect(toggle).to_be_visible(timeout=60_000)
    expect(page.locator("#message")).to_be_enabled(timeout=60_000)
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    return toggle


def test_a_spoken_question_in_the_browser_gets_her_voice_back(
        browser: Browser, server: Server, home: Path) -> None:
    token = set_up(server, home, "theo")
    watched = open_page(browser)
    page = watched.page
    try:
        toggle = voice_on(page, server, "theo")
        # What she heard, shown as the user's words; then her reply, written and spoken.
        expect(page.locator("#log .msg.user .body").last).to_have_text(
            re.compile("capital|france", re.IGNORECASE), timeout=LONG)
        body = page.locator("body")
        expect(body).to_have_attribute("data-state", "speaking", timeout=LONG)
        page.wait_for_function("() => window.os1Voice.receivedSamples > 8000", timeout=LONG)
        expect(page.locator("#log .msg.assistant .body").last).not_to_have_text("",
                                                                               timeout=LONG)
        expect(body).to_have_attribute("data-state", "listening", timeout=LONG)
        reply = page.locator("#log .msg.assistant:not(.reminder) .body").last.inner_text()
        # A reminder falling due now (the page's conversation is checked every 15 s): she
        # shows it and, voice being on, says it.
        after_reply = page.evaluate("window.os1Voice.receivedSamples")
        add_event_soon(server, "theo", "Dentist")
        expect(page.locator("#log .msg.reminder .body")).to_have_text(
            'You have "Dentist" in five minutes.', timeout=60_000)
        page.wait_for_function(f"() => window.os1Voice.receivedSamples > {after_reply}",
                               timeout=LONG)
        expect(body).to_have_attribute("data-state", "listening", timeout=LONG)
        stats = page.evaluate("({...window.os1Voice})")
        assert stats["sentSamples"] > 16_000 * 2  # the microphone went to the server
        assert stats["audioFrames"] >= 2
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "false")
        assert page.evaluate("window.os1Voice.state") == "idle"
    finally:
        page.context.close()
    # The protocol as the page saw it, in order.
    kinds = [f["type"] for f in watched.frames]
    assert "heard" in kinds and "piece" in kinds and "audio" in kinds and "done" in kinds
    assert kinds.index("done") < kinds.index("reminder") < kinds.index("said")
    assert watched.received("said") == [{"type": "said", "status": "complete"}]
    states = [f["state"] for f in watched.received("state")]
    assert states.index("thinking") < states.index("speaking")
    audio = watched.received("audio")
    assert audio and all(a["rate"] > 8000 and a["samples"] > 0 for a in audio)
    assert stats["receivedSamples"] == sum(a["samples"] for a in audio)
    # Stored: their words as heard and her reply, in their history only.
    history = httpx.get(f"{server.url}/api/history",
                        headers={"Authorization": f"Bearer {token}"}).json()
    said = [m for m in history if m["role"] == "user"]
    assert said and re.search("capital|france", said[0]["content"], re.IGNORECASE)
    hers = [m for m in history if m["role"] == "assistant"]
    assert hers and hers[0]["content"].strip()
    assert reply.strip() and hers[0]["status"] in ("complete", "interrupted")
    assert len(hers) == 1  # the reminder said aloud is not stored as something she said
    # Nothing was asked of another host, nothing broke the page's CSP, and nothing said
    # was put in a URL.
    assert watched.foreign_requests(server.url) == []
    assert watched.complaints == []
    assert not [u for u in watched.requests if re.search("capital|france", u, re.I)]
    log = (home / "server.log").read_text()
    assert "capital" not in log.lower()


# A microphone the test speaks into when it chooses (Chromium's fake capture plays a file on
# its own clock): getUserMedia gives the page a stream from an audio graph of the test's.
MICROPHONE = """(() => {
  let context = null;
  let speaker = null;
  window.testMicrophone = {
    say(samples, rate) {
      const audio = context.createBuffer(1, samples.length, rate);
      audio.getChannelData(0).set(samples);
      const source = context.createBufferSource();
      source.buffer = audio;
      source.connect(speaker);
      return new Promise((done) => { source.onended = done; source.start(); });
    },
  };
  navigator.mediaDevices.getUserMedia = async () => {
    context = new AudioContext();
    speaker = context.createMediaStreamDestination();
    await context.resume();
    return speaker.stream;  // silence until the test says something
  };
})();"""


def say_into(page: Page, audio: Audio) -> None:
    """Plays ``audio`` into the page's microphone, in real time; back when it has played."""
    page.evaluate("([samples, rate]) => window.testMicrophone.say(new Float32Array(samples), "
                  "rate)", [audio.samples.tolist(), audio.rate])


def talk_over_a_long_sentence(page: Page, watched: Watched, interruption: Audio) -> None:
    """Talks over her as soon as her voice for a sentence of 2 s or more begins to come
    (sent at most about a second ahead of playback, so she is still saying it when she is
    heard being talked over; a short sentence might be over by then)."""
    seen = 0
    deadline = time.monotonic() + LONG / 1000
    while time.monotonic() < deadline:
        page.wait_for_timeout(50)  # frames seen by the page are recorded meanwhile
        headers = watched.received("audio")
        if any(h["samples"] >= 2 * h["rate"] for h in headers[seen:]):
            say_into(page, interruption)
            return
        seen = len(headers)
        assert not watched.received("done"), "her whole reply was short sentences"
    raise AssertionError("she never spoke")


def test_talking_over_her_in_the_browser_stops_her_voice_and_shows_what_she_said(
        browser: Browser, server: Server, home: Path) -> None:
    token = set_up(server, home, "ada")
    voice = open_voice("male")
    question = voice.synthesize("Tell me a long story about the sea, please.")
    interruption = voice.synthesize("Wait, stop a moment.")
    watched = open_page(browser)
    page = watched.page
    page.add_init_script(MICROPHONE)
    body = page.locator("body")
    try:
        voice_on(page, server, "ada")
        expect(body).to_have_attribute("data-state", "listening", timeout=LONG)
        say_into(page, question)
        talk_over_a_long_sentence(page, watched, interruption)
        page.wait_for_function("() => window.os1Voice.cutOffs >= 1", timeout=60_000)
        stats = page.evaluate("({...window.os1Voice})")
        # Her voice still due was dropped at once: nothing of it plays on.
        assert stats["cutSeconds"] > 0 and stats["playing"] == 0, stats
        cut = page.locator("#log .msg.assistant.interrupted .body")
        expect(cut).to_have_count(1, timeout=LONG)
        # What they said over her is the next turn, heard and answered.
        expect(page.locator("#log .msg.user .body").last).to_have_text(
            re.compile("wait|stop|moment", re.IGNORECASE), timeout=LONG)
        expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(
            2, timeout=LONG)
        shown = cut.inner_text()
    finally:
        page.context.close()
    dones = watched.received("done")
    assert dones[0]["status"] == "interrupted" and dones[0]["said"] == shown
    states = [f["state"] for f in watched.received("state")]
    assert states.index("speaking") < states.index("listening", states.index("speaking"))
    history = httpx.get(f"{server.url}/api/history",
                        headers={"Authorization": f"Bearer {token}"}).json()
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    story, heard = history[1], history[2]
    # Stored is what she got to say, as the page shows it: less than she had written.
    assert (story["status"], story["content"], story["id"]) == \
        ("interrupted", shown, dones[0]["message_id"])
    written = "".join(f["text"] for f in watched.frames[:watched.frames.index(dones[0])]
                      if f.get("type") == "piece")
    assert shown and len(shown) < len(written), (shown, written)
    assert re.search("wait|stop|moment", heard["content"], re.IGNORECASE)
    assert watched.complaints == [] and watched.foreign_requests(server.url) == []


def wait_for_readies(page: Page, watched: Watched, count: int) -> None:
    """Until the page has been told ``ready`` ``count`` times, over all its connections."""
    deadline = time.monotonic() + LONG / 1000
    while len(watched.received("ready")) < count:
        assert time.monotonic() < deadline, "the page did not connect again"
        page.wait_for_timeout(100)


def test_voice_mode_comes_back_by_itself_after_the_server_restarts(
        browser: Browser, server: Server, home: Path) -> None:
    token = set_up(server, home, "mia")
    question = open_voice("male").synthesize("What colour is the sky on a clear day?")
    watched = open_page(browser)
    page = watched.page
    page.add_init_script(MICROPHONE)
    conversations: list[WebSocketRoute] = []  # the page's text connections, passed through

    def pass_through(socket: WebSocketRoute) -> None:
        socket.connect_to_server()
        conversations.append(socket)

    page.route_web_socket(re.compile(r"/api/conversation$"), pass_through)
    body = page.locator("body")
    try:
        toggle = voice_on(page, server, "mia")
        expect(body).to_have_attribute("data-state", "listening", timeout=LONG)
        readies = len(watched.received("ready"))  # the conversation's and the voice's
        # an upgrade, say (uvicorn stops gracefully, then re-raises the signal)
        assert server.stop(signal.SIGTERM) in (0, -signal.SIGTERM)
        expect(body).to_have_attribute("data-state", "reconnecting", timeout=60_000)
        server.start()
        # Nobody touched the page: both connections come back (in either order), and
        # voice mode is on again, listening, and hears the next question.
        # Two readies may both be the text connection's (it can drop once more while the
        # server starts) while the voice waits out its growing pause: allow for that.
        wait_for_readies(page, watched, readies + 2)
        expect(body).to_have_attribute("data-state", "listening", timeout=LONG)
        # The text connection alone drops (a proxy's idle timeout, say) and comes back
        # after the voice: the page shows it away, then the voice's state again.
        readies = len(watched.received("ready"))
        conversations[-1].close(code=1001)
        wait_for_readies(page, watched, readies + 1)
        expect(body).to_have_attribute("data-state", "listening", timeout=10_000)
        expect(toggle).to_have_attribute("aria-pressed", "true")
        say_into(page, question)
        expect(page.locator("#log .msg.user .body").last).to_have_text(
            re.compile("sky|colou?r", re.IGNORECASE), timeout=LONG)
        expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(
            1, timeout=LONG)
        expect(body).to_have_attribute("data-state", "listening", timeout=LONG)
        heard_back = page.evaluate("window.os1Voice.receivedSamples")
    finally:
        page.context.close()
    assert heard_back > 0
    stored = server.history(token)
    assert [(m["role"], m["status"]) for m in stored] == [("user", "complete"),
                                                          ("assistant", "complete")]
    assert re.search("sky|colou?r", stored[0]["content"], re.IGNORECASE)
    assert watched.complaints == []


def test_a_spoken_question_to_a_busy_server_waits_its_turn_as_a_typed_message(
        browser: Browser, tmp_path: Path) -> None:
    question = open_voice("male").synthesize("What colour is the sky on a clear day?")
    # No turn waits for the model here: while someone else's long reply runs, she is busy.
    with real_server(tmp_path, "--max-waiting", "0", reply_tokens=200) as server:
        token = set_up(server, tmp_path, "noor")
        other = set_up(server, tmp_path, "sam")
        watched = open_page(browser)
        page = watched.page
        page.add_init_script(MICROPHONE)
        try:
            voice_on(page, server, "noor")
            expect(page.locator("body")).to_have_attribute("data-state", "listening",
                                                           timeout=LONG)
            with connect(server.url.replace("http://", "ws://") + "/api/conversation",
                         ping_interval=None) as ws:
                ws.send(json.dumps({"type": "auth", "token": other}))
                assert json.loads(ws.recv(60))["type"] == "ready"
                ws.send(json.dumps({"type": "message",
                                    "text": "Tell me a long story about a lighthouse."}))
                while json.loads(ws.recv(120))["type"] != "piece":
                    pass  # her reply to someone else is under way
                say_into(page, question)
                expect(page.locator("#notice")).to_contain_text("answering someone else",
                                                                timeout=LONG)
                while json.loads(ws.recv(300))["type"] != "done":
                    pass
            # The words heard went as a typed message: answered when the model was free.
            mine = page.locator("#log .msg.user")
            expect(mine).to_have_count(1)
            expect(mine.locator(".body")).to_have_text(re.compile("sky|colou?r", re.I))
            expect(mine).not_to_have_class(re.compile("pending"), timeout=LONG)
            expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(
                1, timeout=LONG)
        finally:
            page.context.close()
        stored = server.history(token)
        assert [m["role"] for m in stored] == ["user", "assistant"]
        assert re.search("sky|colou?r", stored[0]["content"], re.IGNORECASE)
        assert [f["code"] for f in watched.received("error")][:1] == ["busy"]
        assert watched.complaints == []
