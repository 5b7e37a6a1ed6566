"""The web front end for real: ``os1 serve`` with the bundled model and her memory, driven
by headless Chromium (Debian's, through Playwright). Sign-up, the first-run setup in
which the model chooses her name, a streamed reply, a reload with the history intact, a
memory found, traced to its source, corrected and forgotten in the page and gone from her
recall, and the server killed mid-reply and started again while the page reconnects by
itself and loses nothing; a long history scrolled back, the page used from the keyboard
alone at desktop and phone sizes, and a calendar reminder reaching the open page. Every
main screen is photographed at phone and desktop sizes (build/test-output/screenshots/)
and checked with axe-core; the page must never ask another host for anything, nor break
its Content-Security-Policy."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, expect
from websockets.sync.client import connect

from os1.calendar.events import CalendarSource, CalendarStore
from os1.calendar.ics import Event
from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.mind.setup import NAME_PATTERN
from os1.storage.accounts import user_id_of
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from tests.browser import (
    Watched,
    chromium,
    open_page,
    real_server,
    screenshots,
    serious_violations,
)
from tests.integration.test_server_real import PASSWORD, Server

pytestmark = pytest.mark.integration

LONG = 120_000  # ms: a reply on two cores, or a model loading again


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with real_server(tmp_path_factory.mktemp("web")) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def watched(browser: Browser, server: Server) -> Iterator[Watched]:
    watched = open_page(browser)
    yield watched
    watched.page.context.close()


def check_screen(page: Page, name: str, problems: list[str]) -> None:
    """Photographs of the screen at both sizes, and axe-core's serious findings on it."""
    assert all(p.stat().st_size > 5000 for p in screenshots(page, name))
    problems += [f"{name}: {v}" for v in serious_violations(page)]


def assert_clean(watched: Watched, server: Server, *private: str) -> None:
    """Nothing asked of other hosts, nothing the browser complained of, and nothing of
    the person's (password, login token, what was said) in the server's log."""
    assert watched.foreign_requests(server.url) == []
    assert len(watched.requests) > 3  # the check saw the page's traffic
    assert watched.complaints == []
    token = watched.page.evaluate("localStorage.getItem('os1.token')")
    log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "os1 serves on" in log  # the log that is checked is the server's
    for secret in (PASSWORD, token, *private):
        assert not secret or secret not in log, secret


SAID = "#log .msg:not(.reminder)"  # the conversation, without her reminders beside it


def log_texts(page: Page) -> list[str]:
    return [t.strip() for t in page.locator(f"{SAID} .body").all_inner_texts()]


def sign_up_in_page(page: Page, username: str) -> None:
    page.get_by_role("textbox", name="Username").nth(1).fill(username)
    page.get_by_label("Your name").fill("Theo")
    page.locator("#signup-password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()


def send(page: Page, text: str) -> None:
    page.get_by_label("Message to her").fill(text)
    page.keyboard.press("Enter")


def wait_for(condition: Callable[[], bool], timeout: float = 240) -> None:
    """Polled every 2 s: the API allows a person 60 requests a minute."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(2)


def test_sign_up_setup_a_streamed_reply_and_a_reload(watched: Watched, server: Server) -> None:
    page, problems = watched.page, list[str]()
    page.goto(server.url)
    expect(page.get_by_role("heading", name="Hello.")).to_be_visible()
    check_screen(page, "1-sign-up", problems)
    sign_up_in_page(page, "theo")
    # the first-run setup, in the browser: answered from the keyboard
    name_box = page.get_by_label("What's your name?")
    expect(name_box).to_be_focused()
    name_box.fill("Theo")
    page.keyboard.press("Tab")
    page.keyboard.type("mostly social")
    page.get_by_label("What do you hope an OS can be for you?").fill("a friend who listens")
    expect(page.get_by_role("group", name="Would you like your OS to have a female or a male"
                            " voice?")).to_be_visible()
    page.get_by_label("female").check()
    check_screen(page, "2-setup", problems)
    page.get_by_role("button", name="Begin").click()
    met = page.locator("#setup-met")
    expect(met).to_be_visible(timeout=LONG * 5)  # up to 5 tries on a busy machine
    token = page.evaluate("localStorage.getItem('os1.token')")
    setup = httpx.get(f"{server.url}/api/setup",
                      headers={"Authorization": f"Bearer {token}"}).json()
    her = setup["companion_name"]
    assert setup["done"] and NAME_PATTERN.match(her) and her != "Juniper"  # her own pick
    expect(met).to_have_text(f"Hello, I'm {her}.")
    expect(page.locator("#setup-reason")).to_have_text(setup["name_reason"])
    check_screen(page, "3-her-name", problems)
    page.get_by_role("button", name="Start talking").click()
    expect(page.locator("#her-name")).to_have_text(her)
    expect(page.locator("#state-text")).to_have_text("listening", timeout=LONG)
    # a reply streamed piece by piece into the page
    send(page, "Tell me a short story about a lighthouse keeper and his cat.")
    expect(page.locator("#log .msg.assistant.streaming")).to_be_visible(timeout=LONG)
    expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(1, timeout=LONG)
    pieces = watched.received("piece")
    assert len(pieces) >= 2 and watched.received("done")
    shown = log_texts(page)
    assert shown[0] == "Tell me a short story about a lighthouse keeper and his cat."
    assert shown[1] == "".join(p["text"] for p in pieces).strip()
    assert answered(server, token, shown[0])
    assert history(server, token)[1]["content"].strip() == shown[1]
    expect(page.locator("#state-text")).to_have_text("listening")
    check_screen(page, "4-conversation", problems)
    # reload: still logged in, the same conversation from the server
    page.reload()
    expect(page.locator("#log .msg")).to_have_count(2, timeout=LONG)
    assert log_texts(page) == shown
    assert "token" not in page.url and page.url.rstrip("/") == server.url
    typed_before_the_history(page, server, token, her, shown)
    page.get_by_role("button", name="Her").click()
    expect(page.locator("#mood-now")).to_contain_text("She feels")
    expect(page.locator("#her-who")).to_have_text(her)
    expect(page.locator("#growth li").first).to_be_visible()
    assert page.locator("#mood-chart svg circle").count() >= 2
    check_screen(page, "5-her", problems)
    assert problems == []
    assert_clean(watched, server, *shown)


def typed_before_the_history(page: Page, server: Server, token: str, her: str,
                             shown: list[str]) -> None:
    """A page that has seen her set up opens the conversation at once on the next visit:
    a message typed before the history has arrived waits for it, then goes, after it."""
    parked: list[Route] = []

    def history_read(url: str) -> bool:
        return "/api/history" in url

    def park(route: Route) -> None:
        parked.append(route)

    page.route(history_read, park)
    page.reload()
    expect(page.locator("#message")).to_be_enabled(timeout=LONG)
    expect(page.locator("#her-name")).to_have_text(her)
    send(page, "Thank you.")
    expect(page.locator("#log .msg.user.pending")).to_have_count(1)
    for _ in range(100):  # the route is handed over while Playwright is being called
        if parked:
            break
        page.wait_for_timeout(100)
    assert parked and log_texts(page) == ["Thank you."]
    page.wait_for_timeout(1000)
    assert stored_user_messages(server, token) == [shown[0]]  # held until the history
    for route in parked:
        route.continue_()
    page.unroute(history_read)
    expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(2, timeout=LONG)
    assert log_texts(page)[:3] == [*shown, "Thank you."]
    assert stored_user_messages(server, token) == [shown[0], "Thank you."]


def token_for(server: Server, username: str) -> str:
    return server.token(username)


def talk_over_websocket(server: Server, token: str, text: str) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/api/conversation", open_timeout=30) as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        json.loads(ws.recv(30))
        ws.send(json.dumps({"type": "message", "text": text}))
        while json.loads(ws.recv(240))["type"] not in ("done", "error"):
            pass


def remembered_all(server: Server, username: str) -> bool:
    """Her memory has caught up with everything this person said (moments and facts)."""
    db = sqlite3.connect(Path(server.env["OS1_HOME"]) / "os1.db")
    try:
        user = "account:{}".format(db.execute("SELECT id FROM accounts WHERE username = ?",
                                              (username,)).fetchone()[0])
        row = db.execute(
            "SELECT (SELECT MAX(id) FROM messages WHERE user_id = ?),"
            " (SELECT last_message_id FROM memory_progress WHERE user_id = ?)",
            (user, user)).fetchone()
    finally:
        db.close()
    return row[0] is not None and row[1] is not None and row[1] >= row[0]


def recalled(server: Server, token: str, query: str) -> dict[int, str]:
    """What she would recall for ``query``: memory id -> content."""
    found = httpx.post(f"{server.url}/api/memories/search",
                       headers={"Authorization": f"Bearer {token}"},
                       json={"query": query, "limit": 50})
    assert found.status_code == 200, found.text
    return {int(m["id"]): str(m["content"]) for m in found.json()}


def recall(server: Server, token: str, query: str) -> list[str]:
    return list(recalled(server, token, query).values())


def log_in_in_page(page: Page, server: Server, username: str) -> None:
    page.goto(server.url)
    page.get_by_role("textbox", name="Username").first.fill(username)
    page.get_by_label("Password").first.fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#state-text")).to_have_text("listening", timeout=LONG)


def test_a_memory_traced_corrected_and_forgotten_in_the_page(
        watched: Watched, server: Server) -> None:
    page, problems = watched.page, list[str]()
    token = token_for(server, "amy")
    said = "My sister Ana lives in Lisbon, by the river."
    talk_over_websocket(server, token, said)
    wait_for(lambda: remembered_all(server, "amy"))
    assert any("Lisbon" in m for m in recall(server, token, "Where does my sister live?"))
    log_in_in_page(page, server, "amy")
    page.get_by_role("button", name="Memories").click()
    page.get_by_role("searchbox", name="Search her memories").fill("Lisbon")
    page.keyboard.press("Enter")
    found = page.locator("#memory-list li.memory").filter(has_text="Lisbon").first
    expect(found).to_be_visible()
    old_id = int(found.get_attribute("data-id") or 0)
    first = page.locator(f'#memory-list li.memory[data-id="{old_id}"]')  # this one, always
    content = first.locator(".content").inner_text()
    first.get_by_role("button", name=re.compile("^Where this came from")).click()
    expect(first.locator(".detail")).to_contain_text("Lisbon")
    check_screen(page, "6-memories", problems)
    # corrected in the page: she recalls the correction, not the old words
    first.get_by_role("button", name=re.compile("^Edit")).click()
    editor = page.get_by_label("Corrected memory")
    expect(editor).to_be_focused()
    corrected = content.replace("Lisbon", "Porto")
    editor.fill(corrected)
    check_screen(page, "7-memory-edit", problems)
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#memory-count")).to_have_text("Corrected.")
    assert corrected in recall(server, token, "sister Porto")
    assert old_id not in recalled(server, token, f"Where does my sister live? {content}")
    # forgotten in the page: every memory of it, the corrected one first
    page.get_by_role("searchbox", name="Search her memories").fill("sister Porto Lisbon")
    page.keyboard.press("Enter")
    expect(page.locator("#memory-count")).to_contain_text("found")
    for place in ("Porto", "Lisbon"):
        items = page.locator("#memory-list li.memory").filter(has_text=place)
        while (left := items.count()) > 0:
            forget = items.first.get_by_role("button", name=re.compile("^Forget"))
            forget.click()
            expect(forget).to_have_text("Forget for good?")
            forget.click()
            expect(items).to_have_count(left - 1)
            expect(page.locator("#memory-count")).to_have_text("Forgotten.")
    remaining = recall(server, token, "Where does my sister live? Lisbon Porto")
    assert [m for m in remaining if "Lisbon" in m or "Porto" in m] == []
    assert problems == []
    assert_clean(watched, server)


def history(server: Server, token: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}/api/history?limit=500",
                       headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def stored_user_messages(server: Server, token: str) -> list[str]:
    return [m["content"] for m in history(server, token) if m["role"] == "user"]


def answered(server: Server, token: str, text: str) -> bool:
    stored = history(server, token)
    return len(stored) >= 2 and stored[-1]["role"] == "assistant" and \
        stored[-2]["content"] == text


def test_the_server_restarted_mid_reply_and_the_page_reconnects_losing_nothing(
        watched: Watched, server: Server) -> None:
    page, problems = watched.page, list[str]()
    token = token_for(server, "sam")
    talk_over_websocket(server, token, "Hello!")  # her server setup; no naming to wait for
    log_in_in_page(page, server, "sam")
    story = "Tell me a long story about a lighthouse keeper and his cat."
    send(page, story)
    # stored (the page has its "accepted") and her reply under way: the server dies
    expect(page.locator("#log .msg.user:not(.pending)")).to_have_count(2, timeout=LONG)
    expect(page.locator("#log .msg.assistant.streaming")).to_have_count(1)
    server.stop(signal.SIGKILL)
    expect(page.locator("#state-text")).to_have_text("reconnecting…")
    offline = "Are you still there?"
    send(page, offline)  # typed while she is away: queued, sent once she is back
    expect(page.locator("#log .msg.user.pending")).to_have_count(1)
    check_screen(page, "8-reconnecting", problems)
    server.start()
    expect(page.locator("#state-text")).to_have_text("listening", timeout=LONG)
    expect(page.locator("#log .msg.pending")).to_have_count(0, timeout=LONG)
    wait_for(lambda: answered(server, token, offline))
    # each message stored once: the one cut off by the kill was acknowledged, so it was
    # not sent again; the one typed while she was away was sent once she was back
    assert stored_user_messages(server, token) == ["Hello!", story, offline]
    assert len(watched.received("accepted")) == 2
    stored = history(server, token)
    expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(
        sum(m["role"] == "assistant" for m in stored), timeout=LONG)
    assert log_texts(page) == [m["content"].strip() for m in stored]
    expect(page.locator("#state-text")).to_have_text("listening")
    page.reload()
    expect(page.locator("#log .msg")).to_have_count(len(stored), timeout=LONG)
    assert log_texts(page) == [m["content"].strip() for m in stored]
    assert problems == []
    assert_clean(watched, server, story, offline)


def seed_old_conversation(server: Server, username: str, exchanges: int) -> list[str]:
    """``exchanges`` earlier exchanges put straight into her storage (days of talk, no
    model needed), marked as already gone through by her memory; returns their texts."""
    db = Database.open(Path(server.env["OS1_HOME"]) / "os1.db", migrate=False)
    try:
        user_id = user_id_of(db, username)
        log = ConversationLog(db, user_id)
        session = log.start_session("import")
        texts: list[str] = []
        start = time.time() - 86_400 * 3
        for n in range(exchanges):
            texts += [f"Old question number {n}?", f"Old answer number {n}."]
            log.append(session, "user", texts[-2], at=start + len(texts))
            log.append(session, "assistant", texts[-1], at=start + len(texts))
        last = log.recent(1)[-1].id
        store = MemoryStore(db, user_id, HashEmbedder())
        for stage in ("moments", "extracted"):
            store.mark_processed(last, stage)
    finally:
        db.close()
    return texts


def add_event_soon(server: Server, username: str, title: str) -> None:
    """An event five minutes away in this person's calendar: its reminder is due now."""
    db = Database.open(Path(server.env["OS1_HOME"]) / "os1.db", migrate=False)
    try:
        user_id = user_id_of(db, username)
        store = CalendarStore(db, user_id, UTC)
        source = store.add_source(CalendarSource("home", "ics", "/nowhere.ics"))
        soon = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5, seconds=30)
        store.replace_events(source, [Event(f"{title}@test", title, soon,
                                            soon + timedelta(hours=1))])
    finally:
        db.close()


def tab_to(page: Page, selector: str, presses: int = 40) -> None:
    """Tab until what ``selector`` names has the focus, as someone without a mouse would."""
    for _ in range(presses):
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} is not reachable with Tab")


def test_earlier_history_scrolls_back_and_the_page_works_from_the_keyboard(
        watched: Watched, server: Server) -> None:
    page, problems = watched.page, list[str]()
    page.set_viewport_size({"width": 1280, "height": 800})
    token = token_for(server, "kim")
    seeded = seed_old_conversation(server, "kim", 35)  # 70 messages: more than one page
    talk_over_websocket(server, token, "Hello!")  # her server setup; no naming to wait for
    stored = [m["content"].strip() for m in history(server, token)]
    assert stored[:70] == seeded and len(stored) == 72
    add_event_soon(server, "kim", "Dentist")
    # logging in with the keyboard alone
    page.goto(server.url)
    page.keyboard.type("kim")  # the username box has the focus on arrival
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#state-text")).to_have_text("listening", timeout=LONG)
    # her calendar's reminder reaches the open page, beside the conversation
    expect(page.locator("#log .msg.reminder .body")).to_have_text(
        'You have "Dentist" in five minutes.')
    # the newest 50 are shown, scrolled to the end; the earlier ones come on request
    scroll_back(page, stored)
    check_screen(page, "9-earlier-history", problems)
    # talking, and moving between the views, from the keyboard
    tab_to(page, "#message")
    page.keyboard.type("Thank you for remembering.")
    page.keyboard.press("Enter")
    expect(page.locator("#log .msg.assistant:not(.streaming)")).to_have_count(37, timeout=LONG)
    tab_to(page, "#nav [data-view=her]")
    page.keyboard.press("Enter")
    expect(page.locator("#mood-now")).to_contain_text("She feels", timeout=LONG)
    # on a phone the whole page scrolls, not the log: the same from the reader's side
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    scroll_back(page, [m["content"].strip() for m in history(server, token)])
    assert problems == []
    assert_clean(watched, server, "Thank you for remembering.")


def scroll_back(page: Page, stored: list[str]) -> None:
    """The newest 50 are shown with the newest in view; "Show earlier", pressed from the
    keyboard, adds the rest above while the reader's place stays in view."""
    expect(page.locator(SAID)).to_have_count(50, timeout=LONG)
    assert log_texts(page) == stored[-50:]
    expect(page.locator(SAID).last).to_be_in_viewport()
    top = page.locator("#log .msg .body").get_by_text(stored[-50], exact=True)
    top.scroll_into_view_if_needed()
    tab_to(page, "#earlier")
    page.keyboard.press("Enter")
    expect(page.locator(SAID)).to_have_count(len(stored), timeout=LONG)
    assert log_texts(page) == stored
    expect(page.locator("#earlier")).to_be_hidden()  # nothing older is left
    expect(top).to_be_in_viewport()
