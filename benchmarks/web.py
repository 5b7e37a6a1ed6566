"""The web front end's cost over a bare client (``os1 serve``, headless Chromium).

The real ``os1 serve`` (the bundled model unless ``--model``), Debian's Chromium through
Playwright, and a bare Python WebSocket client, all on this machine, in one run:

- **Page load to first usable input**: from navigation start to the moment the page has
  enabled the message box (the page's ``os1:usable`` mark), in a fresh browser context
  holding what a returning person's browser holds: a login token and her name (so the
  page opens the conversation at once; what is typed before the history is shown waits
  for it). Baseline: the bare client opening the WebSocket and logging in (up to her
  ``ready`` frame).
  A second baseline, to show what the browser itself adds: the bare client doing the
  page's whole exchange (the page, over a keep-alive connection, her
  setup and the history, then the WebSocket login).
  The same page load is also timed in a new tab of a window that is already open (a
  browser context kept for the run, with a tab in it): that is how a person opens os1;
  a fresh context is a fresh window, and Chromium builds the window's own pages (its
  omnibox popup, ~140 chrome:// modules) on the same cores while os1's page loads.
  For the browser's floor in both cases, the smallest HTML page with the headers that
  change how a browser opens os1's page (``Cross-Origin-Opener-Policy``, a CSP), served
  by a tiny local server, to its ``DOMContentLoaded``: no ratio, a reference.
- **Send to first token shown**: from the message being submitted in the page to the
  first piece of her reply in the page (``os1:first-piece``). Baseline: the bare client
  sending the same message to its first ``piece`` frame. Each sends ``TYPING_S`` after
  it could. Page and client take turns, each
  on an account of its own with a conversation of the same length, so the model's work is
  the same for both.
- **Page weight**: the bytes of every response the page loads (one HTML response with its
  CSS and JS inline), in KB.

Each ratio is page / bare client (medians); the goal is <= 1.2.

Run: python benchmarks/web.py                  (~3 min on 2 cores)
     python benchmarks/web.py --model fake     (the plumbing only)
Writes benchmarks/results/web.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from common import log, machine
from playwright.sync_api import Browser, Page, StorageState, sync_playwright
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "web.json"
PASSWORD = "correct horse battery"
# Both clients send the question this long after they can (page usable, socket ready):
# nobody types it faster, and a page still busy settling in would otherwise take the
# model's CPU on a 2-core machine where browser and model are one computer.
TYPING_S = 1.0
QUESTION = "What is the capital of France? One word, please."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(home: Path, model: str | None) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, OS1_HOME=str(home), OS1_MAX_REPLY_TOKENS="8", PYTHONUNBUFFERED="1")
    options = ["--no-memory"] + (["--model", model] if model else [])
    process = subprocess.Popen([sys.executable, "-m", "os1", "serve", "--port", str(port),
                                *options], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/status").json()["state"] == "ready":
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.kill()
    raise SystemExit("os1 serve did not become ready")


def account(url: str, name: str) -> str:
    httpx.post(f"{url}/api/accounts", json={"username": name, "password": PASSWORD})
    login = httpx.post(f"{url}/api/sessions", json={"username": name, "password": PASSWORD})
    return str(login.json()["token"])


def bare_ready(url: str, token: str) -> float:
    """Seconds from opening the WebSocket to her ``ready`` frame."""
    start = time.perf_counter()
    with connect(url.replace("http://", "ws://") + "/api/conversation") as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        assert json.loads(ws.recv(30))["type"] == "ready"
        return time.perf_counter() - start


PAGE_FILES = ("/",)  # the page comes whole: its stylesheet and modules are inline


def bare_page_exchange(url: str, token: str) -> float:
    """Seconds for what the page does before its input is usable, done by a bare client."""
    start = time.perf_counter()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as http:
        for path in PAGE_FILES:
            http.get(path).raise_for_status()
        http.get("/api/setup").raise_for_status()
        http.get("/api/history", params={"limit": 50}).raise_for_status()
    bare_ready(url, token)
    return time.perf_counter() - start


def bare_first_piece(url: str, token: str) -> float:
    with connect(url.replace("http://", "ws://") + "/api/conversation") as ws:
        ws.send(json.dumps({"type": "auth", "token": token}))
        json.loads(ws.recv(30))
        time.sleep(TYPING_S)
        start = time.perf_counter()
        ws.send(json.dumps({"type": "message", "text": QUESTION}))
        first = None
        while True:
            frame = json.loads(ws.recv(300))
            if frame["type"] == "piece" and first is None:
                first = time.perf_counter() - start
            if frame["type"] in ("done", "error"):
                break
        assert first is not None, frame
        return first


FLOOR_PAGE = b"<!doctype html><html lang=en><title>os1</title><p>os1</p></html>"


def floor_server() -> tuple[ThreadingHTTPServer, str]:
    """A server of the smallest HTML page, with the headers os1's page has that change
    how a browser opens it (its own browsing-context group, a CSP): the browser's floor."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(FLOOR_PAGE)))
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Content-Security-Policy", "default-src 'none'")
            self.end_headers()
            self.wfile.write(FLOOR_PAGE)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def floor_sample(open_page: Callable[[], Page], url: str) -> float:
    """Seconds for a tab to show the floor page (to its ``DOMContentLoaded``)."""
    page = open_page()
    try:
        page.goto(url)
        return float(page.evaluate(
            "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")) / 1000
    finally:
        page.close()


def returning(url: str, token: str, her_name: str) -> StorageState:
    """What a returning person's browser holds for os1: the login token and her name."""
    return {"cookies": [], "origins": [{"origin": url, "localStorage": [
        {"name": "os1.token", "value": token}, {"name": "os1.her-name", "value": her_name}]}]}


def load_sample(page: Page, url: str) -> float:
    """Seconds from navigation start to the page's message box being usable."""
    try:
        page.goto(url)
        # polled every 200 ms, not on every animation frame: the page times itself (its
        # marks), and a poll per frame would take the model's CPU on two cores
        page.wait_for_function("() => performance.getEntriesByName('os1:usable').length > 0",
                               polling=200, timeout=120_000)
        return float(page.evaluate(
            "performance.getEntriesByName('os1:usable')[0].startTime")) / 1000
    finally:
        page.close()


def page_sample(browser: Browser, url: str, state: StorageState) -> tuple[float, float, int]:
    """In a fresh window: page load to usable input, send to first piece shown (seconds),
    and the bytes of what the page loaded."""
    context = browser.new_context(storage_state=state)
    sizes: list[int] = []
    page = context.new_page()
    page.on("response", lambda r: sizes.append(len(r.body())) if r.request.method == "GET"
            and "/api/" not in r.url else None)
    try:
        page.goto(url)
        page.wait_for_function("() => performance.getEntriesByName('os1:usable').length > 0",
                               polling=200, timeout=120_000)
        load_ms = page.evaluate("performance.getEntriesByName('os1:usable')[0].startTime")
        time.sleep(TYPING_S)
        page.evaluate("""(text) => {
            window.__sent = performance.now();
            document.getElementById('message').value = text;
            document.getElementById('composer').requestSubmit();
        }""", QUESTION)
        page.wait_for_function("() => performance.getEntriesByName('os1:first-piece').length > 0",
                               polling=200, timeout=300_000)
        first_ms = page.evaluate(
            "performance.getEntriesByName('os1:first-piece')[0].startTime - window.__sent")
        page.wait_for_selector("#log .msg.assistant:not(.streaming)", timeout=300_000)
        return load_ms / 1000, first_ms / 1000, sum(sizes)
    finally:
        context.close()


def run(samples: int, model: str | None) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="os1-web-bench-"))
    process, url = start_server(home / "home", model)
    floor, floor_url = floor_server()
    try:
        bare_token, page_token = account(url, "bare"), account(url, "page")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            try:
                # warm-ups, the same for both: her setup (the server's: no naming), the
                # model, the page's first load; both conversations two exchanges long
                for token in (bare_token, page_token, bare_token):
                    bare_first_piece(url, token)
                her = httpx.get(f"{url}/api/setup",
                                headers={"Authorization": f"Bearer {page_token}"})
                state = returning(url, page_token, her.json()["companion_name"])
                page_sample(browser, url, state)
                # a browser the person already has open, with a tab in it
                window = browser.new_context(storage_state=state)
                window.new_page()
                found: dict[str, list[float]] = {key: [] for key in SERIES}
                weight = 0
                for n in range(samples):
                    log(f"sample {n + 1}/{samples}")
                    found["bare_ready_s"].append(bare_ready(url, bare_token))
                    found["bare_exchange_s"].append(bare_page_exchange(url, bare_token))
                    found["bare_first_piece_s"].append(bare_first_piece(url, bare_token))
                    fresh = browser.new_context()
                    found["floor_window_s"].append(floor_sample(fresh.new_page, floor_url))
                    fresh.close()
                    found["floor_tab_s"].append(floor_sample(window.new_page, floor_url))
                    found["tab_load_s"].append(load_sample(window.new_page(), url))
                    load_s, first_s, weight = page_sample(browser, url, state)
                    found["page_load_s"].append(load_s)
                    found["page_first_piece_s"].append(first_s)
            finally:
                browser.close()
    finally:
        floor.shutdown()
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    med = statistics.median
    return {
        "model": model or "bundled", "samples": samples, **found,
        "load_ratio": med(found["page_load_s"]) / med(found["bare_ready_s"]),
        "load_ratio_to_exchange": med(found["page_load_s"]) / med(found["bare_exchange_s"]),
        "tab_load_ratio_to_exchange": med(found["tab_load_s"]) / med(found["bare_exchange_s"]),
        "first_piece_ratio": med(found["page_first_piece_s"]) / med(found["bare_first_piece_s"]),
        "page_weight_kb": weight / 1000,
    }


SERIES = ("page_load_s", "tab_load_s", "bare_ready_s", "bare_exchange_s", "floor_window_s",
          "floor_tab_s", "page_first_piece_s", "bare_first_piece_s")


def table(result: dict[str, Any]) -> str:
    def ms(key: str) -> str:
        return f"{statistics.median(result[key]) * 1000:.0f} ms"

    return "\n".join([
        "| figure | page | bare client | ratio (goal <= 1.2) |",
        "|---|---:|---:|---:|",
        f"| load to first usable input, fresh window | {ms('page_load_s')} | "
        f"{ms('bare_ready_s')} (socket) | {result['load_ratio']:.2f}× |",
        f"| the same, against the page's whole exchange | {ms('page_load_s')} | "
        f"{ms('bare_exchange_s')} | {result['load_ratio_to_exchange']:.2f}× |",
        f"| load to first usable input, new tab in an open window | {ms('tab_load_s')} | "
        f"{ms('bare_exchange_s')} | {result['tab_load_ratio_to_exchange']:.2f}× |",
        f"| floor: the smallest page with the same headers, fresh window / new tab | "
        f"{ms('floor_window_s')} / {ms('floor_tab_s')} | | |",
        f"| send to first token shown | {ms('page_first_piece_s')} | "
        f"{ms('bare_first_piece_s')} | {result['first_piece_ratio']:.2f}× |",
        f"| page weight | {result['page_weight_kb']:.1f} KB | | |",
    ])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--model", default=None, help="os1 serve --model (default: bundled)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    result = run(args.samples, args.model)
    result["machine"] = machine()
    result["date"] = dt.date.today().isoformat()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(table(result))


if __name__ == "__main__":
    main()
