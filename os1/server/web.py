"""The browser front end: plain files from ``os1/web`` (no toolchain, nothing fetched from
elsewhere), served at ``/`` as one page with its stylesheet and modules inline (see
``page.py``) and at ``/static/...``, under a strict Content-Security-Policy.

The page keeps the login token in the browser's local storage and sends it in headers
and the WebSocket's first frame: nothing of the person's is ever put in a URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from os1.server.page import build_page

WEB = Path(__file__).resolve().parent.parent / "web"

EVERY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                 "X-Frame-Options": "DENY"}


def web_routes(app: FastAPI) -> None:
    page = build_page(WEB)
    page_headers = {"Content-Security-Policy": page.csp, "Cache-Control": "no-cache",
                    "Cross-Origin-Opener-Policy": "same-origin"}
    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> Response:
        return Response(page.html, media_type="text/html; charset=utf-8")

    @app.middleware("http")
    async def headers(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(EVERY_HEADERS)
        path = request.url.path
        if path == "/" or path.startswith("/static/"):
            response.headers.update(page_headers)
        return response
