"""The ASGI application behind ``os1 serve``, put together from one ``APIRouter`` per
concept: accounts (``accounts_api.py``, ``leaving.py``), her (``herself.py``), the
conversation (``conversation_ws.py``), memories (``memories_api.py``), the
OpenAI-compatible API (``openai_api.py``), voice (``voice_ws.py``), the web page
(``web.py``), and each installed skill's own routes and view (``skill_routes.py``).

Routes are given the server's state and the account of the bearer token through
``dependencies.py``: no route accepts a user id, so there is no id to guess.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import ExitStack, asynccontextmanager

from fastapi import FastAPI

from os1.config import Settings
from os1.data import read_toml
from os1.errors import StorageError
from os1.llm.base import Model
from os1.server import (
    accounts_api,
    artefacts,
    conversation_ws,
    herself,
    leaving,
    memories_api,
    openai_api,
)
from os1.server.body_limit import BodyLimit
from os1.server.error_replies import answer_errors
from os1.server.minds import Minds
from os1.server.schemas import ErrorOut
from os1.server.server_state import MakeMinds, ServerState
from os1.server.sign_ups import SignUpLimit
from os1.server.skill_routes import mount_skills
from os1.server.voice_ws import voice_routes
from os1.server.web import serve_web
from os1.skills import registry
from os1.storage.db import Database

ROUTERS = (accounts_api.router, leaving.router, herself.router, conversation_ws.router,
           memories_api.router, openai_api.router, artefacts.router)


def create_app(settings: Settings, load_model: Callable[[], Model],
               make_minds: MakeMinds | None = None,
               invitation_required: bool = False, max_waiting: int | None = None,
               model_workers: int = 1, sign_ups: SignUpLimit | None = None) -> FastAPI:
    """``load_model`` runs in the background at start-up (once per model worker); until it
    returns she is "loading" and conversation requests get 503 with Retry-After.
    ``max_waiting`` and ``sign_ups`` override server.toml's."""
    db = _open_undamaged(settings)
    limits = read_toml("server.toml")["limits"]
    state = ServerState.open(settings, db, limits, invitation_required, max_waiting,
                             model_workers, sign_ups)
    minds_for = make_minds or Minds
    files = ExitStack()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        threading.Thread(target=state.wake, args=(load_model, minds_for, model_workers),
                         name="os1-load-model", daemon=True).start()
        yield
        state.phase = "shutting_down"
        await state.gate.drain(state.farewell.grace_s)
        if state.minds is not None:
            state.minds.close()
        db.close()
        files.close()

    # No /docs or /redoc: their viewers load scripts from a CDN on the origin that holds
    # everyone's tokens (issue 25); the spec itself is at /openapi.json, for any viewer.
    app = FastAPI(title="os1", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Talk with her: accounts, conversation, memories, mood and "
                              "self, one relationship per account.",
                  responses={400: {"model": ErrorOut}, 401: {"model": ErrorOut},
                             429: {"model": ErrorOut}, 503: {"model": ErrorOut}})
    app.state.os1 = state
    app.add_middleware(BodyLimit, max_bytes=int(limits["max_body_bytes"]))
    answer_errors(app)
    for router in ROUTERS:
        app.include_router(router)
    voice_routes(app, state)
    mount_skills(app, registry.installed_skills(), files)
    serve_web(app)
    return app


def _open_undamaged(settings: Settings) -> Database:
    """The database, migrated; a damaged one stops the server at start with what to do."""
    db = Database.open(settings.storage)
    damage = db.damage()
    if damage is not None:
        db.close()
        raise StorageError(f"The database {db.location} is damaged: {damage[:300]}.",
                           "Stop os1 and keep a copy of the file; then recover what SQLite can "
                           "read into a new one (sqlite3 os1.db .recover | sqlite3 new.db) "
                           "and start os1 with --database new.db.")
    return db
