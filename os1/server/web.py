"""The browser front end: plain files from ``os1/web`` (no toolchain, nothing fetched from
elsewhere), served at ``/`` and ``/static/...`` under a strict Content-Security-Policy.

The page keeps the login token in the browser's session storage and sends it in headers
and the WebSocket's first frame: nothing of the person's is ever put in a URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent.parent / "web"

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
       "img-src 'self' data:; media-src 'self' blob:; worker-src 'self' blob:; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")

# The API's own pages (/docs, /redoc) load their viewer from a CDN; the CSP is for ours.
PAGE_HEADERS = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache",
                "Cross-Origin-Opener-Policy": "same-origin"}
EVERY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                 "X-Frame-Options": "DENY"}


def web_routes(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(WEB / "index.html", media_type="text/html; charset=utf-8")

    @app.middleware("http")
    async def headers(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(EVERY_HEADERS)
        path = request.url.path
        if path == "/" or path.startswith("/static/"):
            response.headers.update(PAGE_HEADERS)
        return response
