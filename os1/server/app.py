"""The ASGI application behind ``os1 serve``: accounts, her status, each person's own
history, mood and self, a WebSocket conversation that streams her reply piece by piece,
and the OpenAI-compatible endpoint (``openai_api.py``).

Every route that touches a person's data takes the account from the bearer token and
nothing else: no route accepts a user id, so there is no id to guess.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from os1.config import Settings
from os1.data import read_toml
from os1.errors import DiskFull, InputError, OS1Error, StorageError
from os1.llm.base import Model
from os1.memory.memories import MemoryNotFound
from os1.server.accounts import Account, AccountStore, AuthError
from os1.server.body_limit import BodyLimit, BodyTooLarge, refusal
from os1.server.farewell import Farewell
from os1.server.gate import Busy, RateLimiter, TurnGate, Unavailable
from os1.server.minds import Minds
from os1.server.schemas import (
    AccountOut,
    Credentials,
    ErrorOut,
    LoginOut,
    PasswordChange,
    Phase,
    SignUp,
    StatusOut,
)
from os1.server.sign_ups import SignUpLimit
from os1.storage.db import Database

log = logging.getLogger(__name__)


@dataclass
class ServerState:
    settings: Settings
    accounts: AccountStore
    gate: TurnGate
    limiter: RateLimiter
    limits: dict[str, Any]
    sign_ups: SignUpLimit
    invitation_required: bool = False
    phase: Phase = "loading"
    problem: str = ""
    minds: Minds | None = None
    farewell: Farewell = field(default_factory=lambda: Farewell(0.0))

    def ready_minds(self) -> Minds:
        """The minds, or a 503 that says why she can't talk now."""
        if self.phase == "ready" and self.minds is not None:
            return self.minds
        raise self.unavailable()

    def unavailable(self) -> Unavailable:
        why = {"loading": "She is still waking up (the model is loading).",
               "shutting_down": "She is going to sleep (the server is shutting down).",
               "failed": f"She can't talk: {self.problem}"}.get(self.phase, "Not ready.")
        return Unavailable(why, 10 if self.phase == "loading" else 30)

    @contextmanager
    def reading(self) -> Iterator[Database]:
        """A connection of the request's own (the turn threads have theirs)."""
        db = Database.open(self.settings.storage, migrate=False)
        try:
            yield db
        finally:
            db.close()



# -- the app -----------------------------------------------------------------------------


def create_app(settings: Settings, load_model: Callable[[], Model],
               make_minds: Callable[[Settings, Model], Minds] | None = None,
               invitation_required: bool = False, max_waiting: int | None = None,
               model_workers: int = 1, sign_ups: SignUpLimit | None = None) -> FastAPI:
    """``load_model`` runs in the background at start-up (once per model worker); until it
    returns she is "loading" and conversation requests get 503 with Retry-After.
    ``max_waiting`` and ``sign_ups`` override server.toml's."""
    db = Database.open(settings.storage)
    damage = db.damage()
    if damage is not None:
        db.close()
        raise StorageError(f"The database {db.location} is damaged: {damage[:300]}.",
                           "Stop os1 and keep a copy of the file; then recover what SQLite can "
                           "read into a new one (sqlite3 os1.db .recover | sqlite3 new.db) "
                           "and start os1 with --database new.db.")
    limits = read_toml("server.toml")["limits"]
    waiting = int(limits["max_waiting"]) if max_waiting is None else max_waiting
    state = ServerState(settings, AccountStore(db), TurnGate(model_workers, waiting),
                        RateLimiter(float(limits["requests_per_minute"]), int(limits["burst"])),
                        limits, sign_ups or SignUpLimit(int(limits["sign_ups_per_address"]),
                                                        int(limits["sign_ups_overall"])),
                        invitation_required,
                        farewell=Farewell(float(limits["shutdown_grace_s"])))
    minds_for = make_minds or (lambda s, m: Minds(s, m))

    def load() -> None:
        try:
            minds = minds_for(settings, load_model())
            for _ in range(model_workers - 1):
                minds.add_worker(load_model())
            state.minds, state.phase = minds, "ready"
        except OS1Error as error:
            state.problem, state.phase = f"{error} {error.hint}".strip(), "failed"
        except Exception as error:  # never "loading" for ever: say what went wrong
            state.problem, state.phase = f"{type(error).__name__}: {error}"[:300], "failed"

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=load, name="os1-load-model", daemon=True).start()
        yield
        state.phase = "shutting_down"
        await state.gate.drain(state.farewell.grace_s)
        if state.minds is not None:
            state.minds.close()
        db.close()

    # No /docs or /redoc: their viewers load scripts from a CDN on the origin that holds
    # everyone's tokens (issue 25); the spec itself is at /openapi.json, for any viewer.
    app = FastAPI(title="os1", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Talk with her: accounts, conversation, memories, mood and "
                              "self, one relationship per account.",
                  responses={400: {"model": ErrorOut}, 401: {"model": ErrorOut},
                             429: {"model": ErrorOut}, 503: {"model": ErrorOut}})
    app.state.os1 = state
    app.add_middleware(BodyLimit, max_bytes=int(limits["max_body_bytes"]))
    _errors(app)
    _account_routes(app, state)
    from os1.server.conversation_ws import conversation_routes
    from os1.server.herself import herself_routes
    from os1.server.leaving import leaving_routes
    from os1.server.openai_api import openai_routes
    from os1.server.person import person_routes
    from os1.server.voice_ws import voice_routes
    from os1.server.web import web_routes

    person_routes(app, state)
    leaving_routes(app, state)
    herself_routes(app, state)
    conversation_routes(app, state)
    openai_routes(app, state)
    voice_routes(app, state)
    web_routes(app)
    return app


def error_body(message: str, kind: str, hint: str = "") -> dict[str, Any]:
    """The OpenAI error shape, so their clients show our message."""
    return {"error": {"message": message, "type": kind, "hint": hint}}


def _errors(app: FastAPI) -> None:
    @app.exception_handler(AuthError)
    async def unauthorised(request: Request, error: AuthError) -> JSONResponse:
        return JSONResponse(error_body(str(error), "unauthorised", error.hint), 401,
                            headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(Busy)
    async def busy(request: Request, error: Busy) -> JSONResponse:
        code = 503 if isinstance(error, Unavailable) else 429
        return JSONResponse(error_body(str(error), "unavailable" if code == 503 else "busy",
                                       error.hint), code,
                            headers={"Retry-After": str(error.retry_after_s)})

    @app.exception_handler(BodyTooLarge)
    async def too_large(request: Request, error: BodyTooLarge) -> JSONResponse:
        return refusal(error)

    @app.exception_handler(MemoryNotFound)
    async def not_found(request: Request, error: MemoryNotFound) -> JSONResponse:
        return JSONResponse(error_body(str(error), "not_found"), 404)

    @app.exception_handler(InputError)
    async def bad_input(request: Request, error: InputError) -> JSONResponse:
        return JSONResponse(error_body(str(error), "invalid_request", error.hint), 400)

    @app.exception_handler(DiskFull)
    async def disk_full(request: Request, error: DiskFull) -> JSONResponse:
        log.error("%s", error)  # the operator's to fix: the client is told no path
        message, hint = DiskFull.for_clients
        return JSONResponse(error_body(message, "insufficient_storage", hint), 507)

    @app.exception_handler(OS1Error)
    async def failed(request: Request, error: OS1Error) -> JSONResponse:
        return JSONResponse(error_body(str(error), "server_error", error.hint), 500)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, error: RequestValidationError) -> JSONResponse:
        """Where and what, never the body: FastAPI's own reply echoed it whole (100 MB
        came back), and a lone surrogate in it made that reply unencodable, a 500 whose
        log carried the body, passwords included (issue 25)."""
        problems = [_problem(e) for e in error.errors()[:MAX_PROBLEMS]]
        return JSONResponse(error_body("The request is not what this endpoint reads: "
                                       + "; ".join(problems), "invalid_request"), 422)


MAX_PROBLEMS = 5


def _problem(error: Any) -> str:
    where = ".".join(str(part)[:40] for part in error.get("loc", ()))
    said = f"{where}: {error.get('msg', 'invalid')}"[:200]
    return said.encode("utf-8", "backslashreplace").decode("utf-8")


_bearer = HTTPBearer(auto_error=False)


def current_account(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Account:
    """The account of the bearer token (within its request budget), or 401/429."""
    state: ServerState = request.app.state.os1
    if credentials is None:
        raise AuthError("This needs a token: 'Authorization: Bearer <token>'.",
                        "Get one with POST /api/sessions.")
    found = state.accounts.account_for(credentials.credentials)
    state.limiter.check(found.user_id)
    return found


Me = Annotated[Account, Depends(current_account)]
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _account_routes(app: FastAPI, state: ServerState) -> None:
    @app.post("/api/accounts", status_code=201, response_model=AccountOut, tags=["accounts"])
    def sign_up(body: SignUp, request: Request) -> AccountOut:
        """At most a few sign-ups per address in ten minutes, and a bound for everyone
        (server.toml); past them 429 with Retry-After."""
        state.sign_ups.check(request.client.host if request.client else None)
        account = state.accounts.sign_up(body.username, body.password, body.display_name,
                                         body.invitation, state.invitation_required)
        return AccountOut(username=account.username, display_name=account.display_name,
                          created_at=account.created_at)

    @app.post("/api/sessions", response_model=LoginOut, tags=["accounts"])
    def log_in(body: Credentials) -> LoginOut:
        login = state.accounts.log_in(body.username, body.password)
        return LoginOut(token=login.token, expires_at=login.expires_at)

    @app.delete("/api/sessions/current", status_code=204, tags=["accounts"])
    def log_out(account: Me, credentials: Bearer) -> Response:
        assert credentials is not None
        state.accounts.revoke(credentials.credentials)
        return Response(status_code=204)

    @app.delete("/api/sessions", status_code=204, tags=["accounts"])
    def log_out_everywhere(account: Me) -> Response:
        """Every token of this account revoked; its open connections end at their next turn."""
        state.accounts.revoke_all(account.id)
        return Response(status_code=204)

    @app.put("/api/me/password", status_code=204, tags=["accounts"])
    def change_password(body: PasswordChange, account: Me) -> Response:
        """The current password and a new one; every other token of the account is revoked."""
        state.accounts.change_password(account, body.current, body.new)
        return Response(status_code=204)

    @app.get("/api/me", response_model=AccountOut, tags=["accounts"])
    def who(account: Me) -> AccountOut:
        return AccountOut(username=account.username, display_name=account.display_name,
                          created_at=account.created_at)

    @app.get("/api/status", response_model=StatusOut, tags=["status"])
    def status() -> StatusOut:
        gate = state.gate.status()
        available = state.phase == "ready" and not state.gate.full()
        detail = {"loading": "The model is loading.", "failed": state.problem,
                  "shutting_down": "The server is shutting down.",
                  "ready": "Ready." if available else "Busy: the queue is full."}[state.phase]
        return StatusOut(state=state.phase, available=available, detail=detail,
                         running=gate.running, waiting=gate.waiting,
                         max_waiting=gate.max_waiting,
                         retry_after_s=0 if available else state.gate.retry_after())
