"""The browser front end: plain files from ``os1/web`` (no toolchain, nothing fetched from
elsewhere), served at ``/`` as one page with its stylesheet and modules inline (see
``page.py``) and at ``/static/...``, under a strict Content-Security-Policy. A skill's
own view (``skill_routes.py``, under ``/skills/<name>/``) gets one as strict, but for
the hashes: its scripts and styles are files of its own, never inline.

The page keeps the login token in the browser's local storage and sends it in headers
and the WebSocket's first frame: nothing of the person's is ever put in a URL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from os1.server.page import Page, build_page

WEB = Path(__file__).resolve().parent.parent / "web"

EVERY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
                 "X-Frame-Options": "DENY"}
SKILL_VIEWS = "/skills/"
SKILL_VIEW_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "connect-src 'self'; img-src 'self' data:; "
                               "media-src 'self' blob:; base-uri 'none'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "Cache-Control": "no-cache", "Cross-Origin-Opener-Policy": "same-origin"}


def page_router(page: Page) -> APIRouter:
    """``/``: the page, built once at start."""
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def index() -> Response:
        return Response(page.html, media_type="text/html; charset=utf-8")

    return router


def serve_web(app: FastAPI) -> None:
    """The page at ``/``, its files under ``/static``, and the headers every response
    gets (with the page's CSP on the page and its files, a skill view's on a view)."""
    page = build_page(WEB)
    page_headers = {"Content-Security-Policy": page.csp, "Cache-Control": "no-cache",
                    "Cross-Origin-Opener-Policy": "same-origin"}
    app.include_router(page_router(page))
    app.mount("/static", StaticFiles(directory=WEB), name="static")

    @app.middleware("http")
    async def headers(request: Request,
                      call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(EVERY_HEADERS)
        path = request.url.path
        if path == "/" or path.startswith("/static/"):
            response.headers.update(page_headers)
        elif path.startswith(SKILL_VIEWS):
            response.headers.update(SKILL_VIEW_HEADERS)
        return response
