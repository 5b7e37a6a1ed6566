"""How every failure is answered: one shape, OpenAI's, so their clients show our message
(``{"error": {"message", "type", "hint"}}``), with the status that says what happened."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from os1.errors import DiskFull, InputError, OS1Error
from os1.memory.records import MemoryNotFound
from os1.server.accounts import AuthError
from os1.server.body_limit import BodyTooLarge, refusal
from os1.server.gate import Busy, Unavailable

log = logging.getLogger(__name__)

MAX_PROBLEMS = 5


def error_body(message: str, kind: str, hint: str = "") -> dict[str, Any]:
    """The OpenAI error shape, so their clients show our message."""
    return {"error": {"message": message, "type": kind, "hint": hint}}


async def unauthorised(request: Request, error: AuthError) -> JSONResponse:
    return JSONResponse(error_body(str(error), "unauthorised", error.hint), 401,
                        headers={"WWW-Authenticate": "Bearer"})


async def busy(request: Request, error: Busy) -> JSONResponse:
    code = 503 if isinstance(error, Unavailable) else 429
    return JSONResponse(error_body(str(error), "unavailable" if code == 503 else "busy",
                                   error.hint), code,
                        headers={"Retry-After": str(error.retry_after_s)})


async def too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
    return refusal(error)


async def not_found(request: Request, error: MemoryNotFound) -> JSONResponse:
    return JSONResponse(error_body(str(error), "not_found"), 404)


async def bad_input(request: Request, error: InputError) -> JSONResponse:
    return JSONResponse(error_body(str(error), "invalid_request", error.hint), 400)


async def disk_full(request: Request, error: DiskFull) -> JSONResponse:
    log.error("%s", error)  # the operator's to fix: the client is told no path
    message, hint = DiskFull.for_clients
    return JSONResponse(error_body(message, "insufficient_storage", hint), 507)


async def failed(request: Request, error: OS1Error) -> JSONResponse:
    return JSONResponse(error_body(str(error), "server_error", error.hint), 500)


async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
    """Where and what, never the body: FastAPI's own reply echoed it whole (100 MB came
    back), and a lone surrogate in it made that reply unencodable, a 500 whose log
    carried the body, passwords included (issue 25)."""
    problems = [_problem(e) for e in error.errors()[:MAX_PROBLEMS]]
    return JSONResponse(error_body("The request is not what this endpoint reads: "
                                   + "; ".join(problems), "invalid_request"), 422)


def _problem(error: Any) -> str:
    where = ".".join(str(part)[:40] for part in error.get("loc", ()))
    said = f"{where}: {error.get('msg', 'invalid')}"[:200]
    return said.encode("utf-8", "backslashreplace").decode("utf-8")


HANDLERS: list[tuple[type[Exception], Any]] = [
    (AuthError, unauthorised), (Busy, busy), (BodyTooLarge, too_large),
    (MemoryNotFound, not_found), (InputError, bad_input), (DiskFull, disk_full),
    (OS1Error, failed), (RequestValidationError, malformed)]


def answer_errors(app: FastAPI) -> None:
    """Each error type answered as above (the most specific handler wins)."""
    for kind, handler in HANDLERS:
        app.add_exception_handler(kind, handler)
