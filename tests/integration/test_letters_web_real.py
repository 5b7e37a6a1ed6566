"""The Letters view for real: ``os1 serve`` (on the scripted model: nothing here needs her
words, and her reading of a letter is a conversation turn the view only sends) driven by
headless Chromium. A letter added through the API gets her suggestions straight into the
server's database (``Reviews.open``, as her reading stores them); in the page one is
accepted and another rejected by clicking, the last rejected with "Reject all", and the
letter's new text is exactly what those answers make. It is chosen for the book and the
book's first pages appear as images; "Ask her to read it over" sends her the request in
a conversation turn. Each screen is photographed at phone and desktop sizes
(build/test-output/screenshots/letters-*) and checked with axe-core; the page asks no
other host for anything and never breaks its Content-Security-Policy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from os1.letters.library import LetterLibrary
from os1.letters.records import Edit
from os1.letters.review import Reviews
from os1.storage.accounts import user_id_of
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore
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

API = "/api/skills/letters"
LETTER = ("Dear Sam,\n\nI recieve your leter yesterday and I was so happy to hear about "
          "the new house.\n\nLove, Theo")
# her suggestions: (his words, her words, kind); the first accepted, the second
# rejected, the third rejected with "Reject all"
EDITS = [("recieve", "received", "spelling"), ("yesterday and", "yesterday, and", "punctuation"),
         ("leter", "letter", "spelling")]
AFTER = LETTER.replace("recieve", "received")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with real_server(tmp_path_factory.mktemp("letters-web"), "--model", "fake") as server:
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


def signed_up(server: Server, username: str) -> dict[str, str]:
    made = httpx.post(f"{server.url}/api/accounts", json={
        "username": username, "password": PASSWORD, "display_name": "Theo"})
    assert made.status_code == 201, made.text
    login = httpx.post(f"{server.url}/api/sessions",
                       json={"username": username, "password": PASSWORD})
    return {"Authorization": f"Bearer {login.json()['token']}"}


def her_suggestions(server: Server, username: str, letter_id: int) -> None:
    """Her suggestions on the letter, stored as her reading stores them."""
    db = Database.open(Path(server.env["OS1_HOME"]) / "os1.db", migrate=False)
    try:
        user = user_id_of(db, username)
        library = LetterLibrary(db, user)
        letter = library.get(letter_id)
        edits = []
        for words, replacement, kind in EDITS:
            start = letter.text.index(words)
            edits.append(Edit(start, start + len(words), words, replacement, kind,  # type: ignore[arg-type]
                              f"“{words}” would read better as “{replacement}”.", "harper"))
        Reviews(db, user, library).open(letter, edits)
    finally:
        db.close()


def check_screen(page: Page, name: str, problems: list[str]) -> None:
    """Photographs at both sizes, nothing wider than a phone's screen, and axe-core."""
    page.evaluate("window.scrollTo(0, 0)")  # the sticky header where it belongs
    assert all(p.stat().st_size > 5000 for p in screenshots(page, f"letters-{name}"))
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
    problems += [f"{name}: {v}" for v in serious_violations(page)]


def letter_now(server: Server, who: dict[str, str], letter_id: int) -> dict[str, Any]:
    got = httpx.get(f"{server.url}{API}/letters/{letter_id}", headers=who)
    assert got.status_code == 200, got.text
    return dict(got.json())


def answer_in_page(page: Page, number: int, decision: str) -> None:
    """Open suggestion ``number`` in the text (a tap on the marked words), then answer."""
    page.locator(f'.sugg[data-number="{number}"] .mark').click()
    note = page.get_by_role("group", name=f"Suggestion {number}", exact=True)
    expect(note).to_be_visible()
    expect(note).to_contain_text("would read better as")
    note.get_by_role("button", name=re.compile(f"^{decision} suggestion {number}:")).click()


def test_suggestions_answered_in_the_page_make_the_exact_letter_and_the_book_shows_it(
        watched: Watched, server: Server) -> None:
    page, problems = watched.page, list[str]()
    theo = signed_up(server, "theo")
    made = httpx.post(f"{server.url}{API}/letters", headers=theo,
                      json={"text": LETTER, "written_for": "Sam"})
    assert made.status_code == 201, made.text
    letter_id = int(made.json()["letter"]["id"])
    her_suggestions(server, "theo", letter_id)
    page.goto(server.url)
    page.evaluate("token => localStorage.setItem('os1.token', token)",
                  theo["Authorization"].removeprefix("Bearer "))
    page.goto(f"{server.url}/skills/letters/")
    entry = page.get_by_role("list", name="Your letters").get_by_role("button")
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("Dear Sam")
    expect(entry).to_contain_text("3 suggestions")
    check_screen(page, "1-list", problems)
    entry.click()
    text = page.get_by_role("article", name="The letter")
    expect(text.locator(".sugg")).to_have_count(3)
    expect(text.locator(".sugg .mark del")).to_have_text(["recieve", "leter", "yesterday and"])
    answer_in_page(page, 1, "Accept")
    expect(page.locator("#status")).to_have_text("1 accepted, 0 rejected; 2 still waiting.")
    answer_in_page(page, 2, "Reject")
    expect(page.locator('.sugg[data-number="2"]')).to_have_attribute("data-decision", "rejected")
    expect(page.locator('.sugg[data-number="1"]')).to_have_attribute("data-decision", "accepted")
    page.locator('.sugg[data-number="3"] .mark').click()  # her note open in the photograph
    check_screen(page, "2-suggestions", problems)
    assert letter_now(server, theo, letter_id)["text"] == LETTER  # nothing made yet
    page.get_by_role("button", name="Reject all", exact=True).click()
    expect(page.locator("#status")).to_have_text(
        "Done: 1 accepted, 2 rejected. The letter is at version 2.")
    expect(text.locator(".sugg")).to_have_count(0)
    expect(text).to_have_text(AFTER)
    assert text.evaluate("box => box.textContent") == AFTER  # exactly, every space
    stored = letter_now(server, theo, letter_id)
    assert (stored["text"], stored["version"], stored["suggestions"]) == (AFTER, 2, [])
    page.locator("#versions summary").click()
    expect(page.locator("#version-list li")).to_have_count(2)
    # into the book: the list's star, the book's list and its first pages as images
    page.get_by_role("button", name="In the book").click()
    expect(page.get_by_role("button", name="★ In the book")).to_have_attribute(
        "aria-pressed", "true")
    expect(entry.locator(".star")).to_have_text("★")
    expect(page.locator("#book-list li")).to_have_count(1)
    pages = page.locator("#preview-pages img")
    expect(pages).to_have_count(3)
    expect(page.locator("#preview-caption")).to_have_text(
        "The first 3 of its 3 pages, as the PDF sets them.")
    assert pages.first.evaluate("image => image.complete && image.naturalWidth > 300")
    check_screen(page, "3-book", problems)
    assert httpx.get(f"{server.url}{API}/book", headers=theo).json()["letters"][0]["id"] == \
        letter_id
    assert problems == []
    assert_clean(watched, server)


def set_up(server: Server, username: str) -> None:
    """She is set up with this person (as the first-run setup leaves her), so the main
    page opens on the conversation with its sections."""
    db = Database.open(Path(server.env["OS1_HOME"]) / "os1.db", migrate=False)
    try:
        SetupStore(db, user_id_of(db, username)).save(SetupRecord(
            "Amy", {"name": "Amy"}, "female", "Juniper", "It grows almost anywhere."))
    finally:
        db.close()


def test_from_the_main_page_a_letter_added_edited_and_read_over_by_her(
        watched: Watched, server: Server, tmp_path: Path) -> None:
    page, problems = watched.page, list[str]()
    amy = signed_up(server, "amy")
    set_up(server, "amy")
    page.goto(server.url)
    page.get_by_role("textbox", name="Username").first.fill("amy")
    page.get_by_label("Password").first.fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Letters").click()
    expect(page).to_have_url(f"{server.url}/skills/letters/")
    expect(page.locator("#no-letters")).to_be_visible()
    # typed in
    page.get_by_text("Add a letter").click()
    page.get_by_role("textbox", name="Written for (if for someone)").fill("Jo")
    text_box = page.get_by_role("textbox", name="The letter", exact=True)  # the one shown
    text_box.fill("Dear Jo,\n\nThank you for the flowers.")
    page.get_by_role("button", name="Keep it").click()
    expect(page.locator("#status")).to_have_text("Kept “Dear Jo”.")
    expect(page.locator("#letter-meta")).to_contain_text("For Jo · 7 words · version 1")
    # from a Markdown file, its title from its front matter
    note = tmp_path / "snow.md"
    note.write_text("---\ntitle: First snow\n---\nDear Sam,\n\nIt snowed.\n", encoding="utf-8")
    page.get_by_text("Add a letter").click()
    page.get_by_label("Or a file").set_input_files(note)
    page.get_by_role("button", name="Keep it").click()
    expect(page.get_by_role("heading", name="First snow")).to_be_visible()
    expect(page.get_by_role("list", name="Your letters").get_by_role("button")).to_have_count(2)
    # edited: a new version, the first kept
    page.get_by_role("button", name="Edit").click()
    text_box.fill("Dear Sam,\n\nI recieved your card today.")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#status")).to_have_text("Saved as version 2; the earlier ones are kept.")
    check_screen(page, "4-edited", problems)
    letters = httpx.get(f"{server.url}{API}/letters", headers=amy).json()
    assert [(x["title"], x["version"]) for x in letters] == [("Dear Jo", 1), ("First snow", 2)]
    snow = letters[1]["id"]
    assert letter_now(server, amy, snow)["text"] == "Dear Sam,\n\nI recieved your card today."
    # her reading is a conversation turn: the request goes over the conversation's socket
    page.get_by_role("button", name="Ask her to read it over").click()
    expect(page.get_by_role("button", name="Ask her to read it over")).to_be_enabled()
    assert watched.received("done")
    assert page.locator("#her-said").inner_text().strip() not in ("", "…")
    history = httpx.get(f"{server.url}/api/history?limit=10", headers=amy).json()
    assert [m["content"] for m in history if m["role"] == "user"] == \
        [f"Please read over letter {snow}."]
    assert history[-1]["role"] == "assistant"
    # her letters desk read it (with its checkers): her suggestion is in the text
    expect(page.locator("#status")).to_have_text("Her suggestions are marked in the letter.")
    mark = page.locator(".sugg .mark").filter(has=page.locator("del", has_text="recieved"))
    expect(mark.locator("ins")).to_have_text("received")
    check_screen(page, "5-read-over", problems)
    # an earlier version made the letter again: her suggestions no longer fit it
    page.locator("#versions summary").click()
    page.get_by_role("button", name="Show version 1").click()
    expect(page.locator("#version-text")).to_have_text("Dear Sam,\n\nIt snowed.")
    page.get_by_role("button", name="Make this the letter again").click()
    expect(page.locator("#status")).to_have_text("Version 1 is the letter again, as version 3.")
    expect(page.locator("#review-stale")).to_be_visible()
    expect(page.locator(".sugg")).to_have_count(0)
    assert letter_now(server, amy, snow)["text"] == "Dear Sam,\n\nIt snowed."
    assert problems == []
    assert_clean(watched, server)


def test_without_a_login_the_view_says_where_to_log_in(watched: Watched,
                                                       server: Server) -> None:
    page = watched.page
    page.goto(f"{server.url}/skills/letters/")
    expect(page.get_by_role("heading", name="Your letters")).to_be_visible()
    expect(page.get_by_role("link", name="the conversation page")).to_have_attribute("href", "/")
    assert serious_violations(page) == []


def assert_clean(watched: Watched, server: Server) -> None:
    """Nothing asked of other hosts, nothing the browser complained of (a CSP breach
    among them), and no login token in the server's log."""
    assert watched.foreign_requests(server.url) == []
    assert watched.complaints == []
    token = watched.page.evaluate("localStorage.getItem('os1.token')")
    assert token and token not in server.log.read_text(encoding="utf-8", errors="replace")
