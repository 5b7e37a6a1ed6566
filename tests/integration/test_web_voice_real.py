"""Voice mode in the browser for real: ``os1 serve`` with the bundled model, Whisper and
her Festival voice, and headless Chromium (Debian's, through Playwright) whose microphone
is a WAV file (Chromium's fake audio capture) of os1's own TTS asking a question. Logged
in through the page, the voice button is pressed: the page must show the words it heard,
her reply as she writes it and the state of the turn, and her voice must come back as
audio while the page never asks another host for anything nor breaks its CSP. A calendar
reminder that falls due while voice is on is shown and said aloud."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from os1.config import load_settings
from os1.server.accounts import AccountStore
from os1.server.minds import setup_for
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.voice.audio import Audio, resample, write_wav
from os1.voice.tts import open_voice
from tests.browser import CHROMIUM, open_page, real_server
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


def test_a_spoken_question_in_the_browser_gets_her_voice_back(
        browser: Browser, server: Server, home: Path) -> None:
    token = set_up(server, home, "theo")
    watched = open_page(browser)
    page = watched.page
    try:
        page.goto(server.url)
        page.locator("#login-username").fill("theo")
        page.locator("#login-password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        toggle = page.locator("#voice-toggle")
        expect(toggle).to_be_visible(timeout=60_000)
        expect(page.locator("#message")).to_be_enabled(timeout=60_000)
        toggle.click()
        expect(toggle).to_have_attribute("aria-pressed", "true")
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
