"""Headless Chromium for the web front end's tests: Debian's ``/usr/bin/chromium`` driven
by Playwright (nothing downloaded: ``playwright install`` is never run), with every
request, WebSocket frame, console complaint and page error of a page recorded, screenshots
at phone and desktop sizes, and axe-core (bundled with axe-playwright-python) run in it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe  # type: ignore[import-untyped]
from playwright.sync_api import Browser, Page, WebSocket, expect, sync_playwright

from tests.integration.test_server_real import Server

CHROMIUM = "/usr/bin/chromium"
OUTPUT = Path(__file__).resolve().parent.parent / "build" / "test-output"
SCREENSHOTS = OUTPUT / "screenshots"
SIZES = {"phone": (390, 844), "desktop": (1280, 800)}
# Every expect() waits for the state it names; Playwright gives up after 5 s by default,
# which a loaded machine exceeded ("the memory's detail still hidden after 5 s" with two
# suites running, issue 25). A minute bounds a hung page without failing a busy one.
expect.set_options(timeout=60_000)


@contextmanager
def real_server(home: Path, *options: str, reply_tokens: int = 40) -> Iterator[Server]:
    """A real ``os1 serve`` (the bundled model, short replies) with its data in ``home``;
    killed at the end if it still runs."""
    env = dict(os.environ, OS1_HOME=str(home / "home"),
               OS1_MAX_REPLY_TOKENS=str(reply_tokens), PYTHONUNBUFFERED="1")
    server = Server(env, home / "server.log", *options)
    try:
        yield server.start()
    finally:  # a failed test too
        if server.process is not None and server.process.poll() is None:
            server.stop(signal.SIGKILL)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Watched:
    """A page and what it did."""

    page: Page
    requests: list[str] = field(default_factory=list)
    frames: list[dict[str, Any]] = field(default_factory=list)
    complaints: list[str] = field(default_factory=list)

    def foreign_requests(self, origin: str) -> list[str]:
        """Requests to anywhere but ``origin`` (data: and blob: URLs stay in the page)."""
        host = urlsplit(origin).netloc
        return [u for u in self.requests
                if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != host]

    def received(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]


def open_page(browser: Browser, size: str = "phone") -> Watched:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height},
                                  service_workers="block")
    page = context.new_page()
    watched = Watched(page)
    page.on("request", lambda request: watched.requests.append(request.url))
    page.on("websocket", lambda ws: _watch_socket(ws, watched))
    page.on("pageerror", lambda error: watched.complaints.append(f"page error: {error}"))
    page.on("console", lambda message: watched.complaints.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None)
    return watched


def _watch_socket(ws: WebSocket, watched: Watched) -> None:
    import json

    watched.requests.append(ws.url.replace("ws://", "http://", 1))

    def frame(payload: str | bytes) -> None:
        try:
            data = json.loads(payload)
        except ValueError:
            return
        if isinstance(data, dict):
            watched.frames.append(data)

    ws.on("framereceived", frame)


def screenshots(page: Page, name: str) -> list[Path]:
    """The screen as it is now, at phone and at desktop size (the page is left at the
    size it had)."""
    before = page.viewport_size
    taken = []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        path = SCREENSHOTS / f"{name}-{size}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
    if before is not None:
        page.set_viewport_size(before)
    return taken


def serious_violations(page: Page) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now."""
    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — "
            f"{[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
