"""The gallery for real: ``os1 serve`` (on the scripted model: no route makes anything, so
nothing here needs her words) driven by headless Chromium. A piece in two versions and a
drawing are planted as the studio keeps them, their files made by the real renderers
(abc2midi, fluidsynth and abcm2ps from a hand-written tune; resvg from a hand-written
SVG). In the page both are shown; the piece's sound is fetched with the login token and
really plays (its clock runs, its length is the WAV's), its sheet music and the drawing
are pictures the browser decoded; an earlier version is picked and the later one stays;
a work is removed after a second press. Screenshots at phone and desktop sizes go to the
test's own folder and must not be blank; the page asks no other host for anything, never
breaks its Content-Security-Policy and passes axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright

from os1.making.drawing.svg_render import render_png
from os1.making.music.sound import render
from os1.making.records import Character, Score, Sound, Version
from os1.making.works import Works
from os1.storage.accounts import user_id_of
from os1.storage.db import Database
from tests.browser import CHROMIUM, Watched, open_page, real_server, serious_violations
from tests.integration.test_server_real import PASSWORD, Server

pytestmark = pytest.mark.integration

API = "/api/skills/made"
TUNE = """X:1
T:Morning by the sea
M:4/4
L:1/8
Q:1/4=120
K:D
"D" A2 F2 D4 | "G" B2 G2 E4 | "A" c2 A2 E2 G2 | "D" F2 D2 D4 |
"D" F2 A2 d4 | "G" B2 d2 g4 | "A" e2 c2 A2 c2 | "D" d8 |]
"""
CHARACTER = Character("D", "major", 120, "4/4", 0, "Acoustic Grand Piano", "mf", 8)
SEA = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 300" width="400" height="300">
  <rect width="400" height="300" fill="#f6d9cc"/>
  <circle cx="290" cy="110" r="46" fill="#e8a33d"/>
  <rect y="190" width="400" height="110" fill="#3b6e8f"/>
  <path d="M0 205 Q100 185 200 205 T400 205 V300 H0 Z" fill="#2f5873"/>
</svg>"""
PIECE_ABOUT = "the sea this morning"
DRAWING_ABOUT = "a quiet sea at sunset"
FIRST_WORDS = "It begins where the light touches the water."
SLOWER_WORDS = "Slower now, like the tide going out."
DRAWING_WORDS = "The sun sits low, and the sea holds still for it."
SIZES = {"phone": (375, 812), "desktop": (1280, 800)}


@dataclass(frozen=True)
class Made:
    """The renderers' real files: the piece at 120 and at 80 beats a minute, the drawing."""

    first: Sound
    slower: Sound
    png: bytes


@pytest.fixture(scope="module")
def made() -> Made:
    slower = replace(CHARACTER, tempo=80)
    return Made(render(Score(TUNE, CHARACTER, 1, False, ())),
                render(Score(TUNE.replace("=120", "=80"), slower, 1, False, ())),
                render_png(SEA))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with real_server(tmp_path_factory.mktemp("made-web"), "--model", "fake") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium that plays sound without a press first (no one is there to press)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--autoplay-policy=no-user-gesture-required"])
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def watched(browser: Browser, server: Server) -> Iterator[Watched]:
    watched = open_page(browser)
    yield watched
    watched.page.context.close()


def signed_up(server: Server, username: str) -> str:
    made = httpx.post(f"{server.url}/api/accounts",
                      json={"username": username, "password": PASSWORD})
    assert made.status_code == 201, made.text
    login = httpx.post(f"{server.url}/api/sessions",
                       json={"username": username, "password": PASSWORD})
    return str(login.json()["token"])


def their_works(server: Server, username: str) -> tuple[Database, Works]:
    home = Path(server.env["OS1_HOME"])
    db = Database.open(home / "os1.db", migrate=False)
    return db, Works(db, user_id_of(db, username), home)


def plant_piece(server: Server, username: str, made: Made) -> int:
    """The piece, then "slower", kept as the studio keeps them."""
    db, works = their_works(server, username)
    try:
        first = Version(0, "play me something about the sea", FIRST_WORDS, TUNE,
                        character=CHARACTER)
        work = works.add("music", PIECE_ABOUT, first, files_of(made.first, TUNE))
        slower = replace(first, request="slower", her_words=SLOWER_WORDS,
                         source=TUNE.replace("=120", "=80"),
                         character=replace(CHARACTER, tempo=80))
        return works.revise(work.id, slower, files_of(made.slower, slower.source)).id
    finally:
        db.close()


def files_of(sound: Sound, abc: str) -> dict[str, bytes]:
    return {"abc": abc.encode(), "midi": sound.midi, "audio": sound.wav,
            "sheet": sound.sheet_svg.encode()}


def plant_drawing(server: Server, username: str, made: Made) -> int:
    db, works = their_works(server, username)
    try:
        version = Version(0, "draw me the sea", DRAWING_WORDS, SEA,
                          plan=("a pale sky", "a low sun", "the sea"))
        return works.add("drawing", DRAWING_ABOUT, version,
                         {"svg": SEA.encode(), "png": made.png}).id
    finally:
        db.close()


def open_gallery(page: Page, server: Server, token: str) -> None:
    page.goto(server.url)
    page.evaluate("token => localStorage.setItem('os1.token', token)", token)
    page.goto(f"{server.url}/skills/made/")


def plays(sound: Locator, seconds: float) -> None:
    """The element has the sound, it plays (its clock passes half a second), and it lasts
    as long as the WAV does."""
    expect(sound).to_have_attribute("src", re.compile(r"^blob:"))
    sound.evaluate("audio => audio.play()")
    sound.page.wait_for_function("audio => audio.currentTime > 0.5",
                                 arg=sound.element_handle(), timeout=30_000)
    assert not sound.evaluate("audio => audio.paused || audio.error !== null")
    duration = float(sound.evaluate("audio => audio.duration"))
    assert abs(duration - seconds) < 0.1, (duration, seconds)
    sound.evaluate("audio => audio.pause()")


def decoded(picture: Locator) -> int:
    """The picture's width as the browser decoded it (0: it is not there or broken)."""
    expect(picture).to_have_attribute("src", re.compile(r"^data:image/"))
    picture.page.wait_for_function("image => image.complete", arg=picture.element_handle())
    return int(picture.evaluate("image => image.naturalWidth"))


def photographed(page: Page, folder: Path, name: str) -> list[Path]:
    """The page at phone and desktop size, full length; none wider than its screen and
    none blank (a page of one colour, or nearly: the empty gallery's has ~1200, for its
    anti-aliased words)."""
    taken = []
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.evaluate("window.scrollTo(0, 0)")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, size
        for image in page.locator("#works img").all():
            assert decoded(image) > 0  # every picture in, before it is photographed
        path = folder / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        with Image.open(path) as shot:
            assert shot.width == width and shot.height >= height
            colours = shot.convert("RGB").getcolors(maxcolors=1 << 20) or []
        assert len(colours) > 200, (path, len(colours))
        taken.append(path)
    return taken


def test_the_gallery_shows_plays_and_pictures_what_she_made(
        watched: Watched, server: Server, made: Made, tmp_path: Path) -> None:
    page = watched.page
    token = signed_up(server, "theo")
    piece = plant_piece(server, "theo", made)
    drawing = plant_drawing(server, "theo", made)
    open_gallery(page, server, token)
    cards = page.get_by_role("list", name="What she made").get_by_role("listitem")
    expect(cards).to_have_count(2)
    expect(cards.locator("h2")).to_have_text(["A quiet sea at sunset", "The sea this morning"])
    # the drawing, newest first: the PNG as the browser decoded it, her words
    sea = cards.nth(0)
    assert sea.get_attribute("data-id") == str(drawing)
    expect(sea.locator(".her-words")).to_have_text(DRAWING_WORDS)
    assert decoded(sea.get_by_role("img", name=f"Her drawing: {DRAWING_ABOUT}")) == 800
    # the piece at its latest: what it is like, her words, its sound playing, its sheet
    music = cards.nth(1)
    assert music.get_attribute("data-id") == str(piece)
    music.scroll_into_view_if_needed()
    expect(music.locator(".character")).to_have_text(
        "D major · 80 beats a minute · 4/4 · Acoustic Grand Piano")
    expect(music.locator(".her-words")).to_have_text(SLOWER_WORDS)
    plays(music.locator("audio"), made.slower.seconds)
    assert decoded(music.get_by_role("img", name=re.compile("^Sheet music of"))) > 100
    photographed(page, tmp_path, "gallery")
    # the first version picked: its own words and sound; the later one still offered
    picker = music.get_by_label("Version", exact=True)
    expect(picker.locator("option")).to_have_count(2)
    later_sound = music.locator("audio").get_attribute("src")
    picker.select_option("1")
    expect(music.locator(".her-words")).to_have_text(FIRST_WORDS)
    expect(music.locator(".version-meta")).to_contain_text("Version 1 (an earlier one)")
    expect(music.locator(".character")).to_contain_text("120 beats a minute")
    plays(music.locator("audio"), made.first.seconds)
    assert music.locator("audio").get_attribute("src") != later_sound
    assert made.slower.seconds - made.first.seconds > 3  # so each length is its own
    expect(picker.locator("option")).to_have_text(["2 of 2 · slower",
                                                   "1 of 2 · play me something about the sea"])
    picker.select_option("2")
    expect(music.locator(".her-words")).to_have_text(SLOWER_WORDS)
    expect(music.locator("audio")).to_have_attribute("src", later_sound or "")
    assert serious_violations(page) == []
    assert_clean(watched, server, token)


def test_a_work_is_removed_only_after_a_second_press(
        watched: Watched, server: Server, made: Made, tmp_path: Path) -> None:
    page = watched.page
    token = signed_up(server, "amy")
    plant_drawing(server, "amy", made)
    open_gallery(page, server, token)
    card = page.locator("#works .work")
    expect(card).to_have_count(1)
    remove = card.get_by_role("button", name=f"Remove “{DRAWING_ABOUT[:1].upper()}"
                              f"{DRAWING_ABOUT[1:]}”")
    remove.click()
    expect(remove).to_have_text("Remove for good?")
    expect(card).to_have_count(1)  # one press only asks
    card.locator("button.danger").click()
    expect(card).to_have_count(0)
    expect(page.locator("#status")).to_have_text(
        "Removed “A quiet sea at sunset” and its versions.")
    expect(page.locator("#no-works")).to_be_visible()
    works = httpx.get(f"{server.url}{API}", headers={"Authorization": f"Bearer {token}"})
    assert works.json() == []
    photographed(page, tmp_path, "gallery-empty")
    assert serious_violations(page) == []
    assert_clean(watched, server, token)


def test_without_a_login_the_gallery_says_where_to_log_in(watched: Watched,
                                                          server: Server) -> None:
    page = watched.page
    page.goto(f"{server.url}/skills/made/")
    expect(page.get_by_role("heading", name="What she made")).to_be_visible()
    expect(page.get_by_role("link", name="the conversation page")).to_have_attribute("href", "/")
    expect(page.locator("#gallery")).to_be_hidden()
    assert serious_violations(page) == []


def assert_clean(watched: Watched, server: Server, token: str) -> None:
    """Nothing asked of other hosts, nothing the browser complained of (a CSP breach
    among them), and no login token in the server's log."""
    assert watched.foreign_requests(server.url) == []
    assert watched.complaints == []
    assert token not in server.log.read_text(encoding="utf-8", errors="replace")
