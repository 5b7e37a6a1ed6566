"""Request bodies are bounded before they are parsed.

Found by attack (issue 25): a 100 MB body to sign-up or log-in, before any login, was read
whole into memory, then parsed as JSON, then validated (several times its size in Python
objects), before a field's own limit could refuse it. Here a body whose Content-Length is
over the limit is refused at once, unread; one sent without a length (chunked) is counted
as it arrives and refused at the first byte past the limit. Either way the answer is a
413 in the API's error shape that says the limit and never echoes the body.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BYTES = 1024 * 1024


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it on as it is (any other
    error while reading a body becomes its own 400) to the app's handler for it."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"The request body is larger than {max_bytes:,} bytes, the "
                              "most this server reads.")
        self.max_bytes = max_bytes


class BodyLimit:
    """Pure ASGI middleware (no buffering of its own): WebSockets pass untouched, their
    frames are bounded by the server (``ws_max_size``) and the handlers."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(self.max_bytes, scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(max_bytes: int, scope: Scope, receive: Receive, send: Send) -> None:
    await refusal(BodyTooLarge(max_bytes))(scope, receive, send)


def refusal(error: BodyTooLarge) -> JSONResponse:
    """The 413, in the shape of error_replies.error_body; the connection closes after it, since
    what is left of the body is not read."""
    return JSONResponse({"error": {
        "message": error.detail, "type": "too_large",
        "hint": "Send less. An OpenAI-style client need not send the earlier messages: "
                "she keeps the conversation herself and reads only the last one."}},
        413, headers={"Connection": "close"})
