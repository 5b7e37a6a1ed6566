"""Each installed skill's own part of the server: its ``APIRouter`` under
``/api/skills/<name>``, behind the same bearer token as every other route, and the
folder of its web view as static files under ``/skills/<name>/``.

A skill's route learns whose request it is only through ``skills/route_person.py``'s
``RoutePerson``, which is filled here from the token, so a skill can't reach anyone
else's rows and never imports the server.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import replace
from importlib.resources import as_file
from importlib.resources.abc import Traversable
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from os1.errors import OS1Error
from os1.llm.base import Model
from os1.memory.embeddings import HashEmbedder
from os1.memory.memories import MemoryStore
from os1.server.dependencies import Me, Reading, State, current_account
from os1.skills.contract import Person, Skill
from os1.skills.route_person import route_person
from os1.storage.setups import user_name

API = "/api/skills"
VIEWS = "/skills"

log = logging.getLogger(__name__)


def skill_person(account: Me, db: Reading, state: State) -> Person:
    """The person of the request's token, as a skill's route is given them."""
    embedder = state.minds.embedder if state.minds is not None else None
    memories = MemoryStore(db, account.user_id, embedder or HashEmbedder())
    return Person(replace(state.settings, user=account.user_id), db, no_model,
                  memories.text_search, user_name(db, account.user_id))


def no_model() -> Model:
    raise OS1Error("A skill's route can't use the model: it is everyone's, one turn at a "
                   "time.", "Propose the work in a conversation turn instead.")


def mount_skills(app: FastAPI, skills: Sequence[Skill], files: ExitStack) -> None:
    """Every skill's router and view; ``files`` keeps a view unpacked from an archive
    on disk until the app stops. A part that is not what the contract says is left out
    with a warning, and the others still work."""
    app.dependency_overrides[route_person] = skill_person
    for skill in skills:
        router = skill.router()
        if isinstance(router, APIRouter):
            app.include_router(router, prefix=f"{API}/{skill.name}",
                               dependencies=[Depends(current_account)],
                               tags=[f"skill: {skill.name}"])
        elif router is not None:
            log.warning("The skill %r's router() gave a %s, not a FastAPI APIRouter: its "
                        "routes are left out.", skill.name, type(router).__name__)
        view = skill.view()
        if view is not None:
            _mount_view(app, skill.name, view, files)


def _mount_view(app: FastAPI, name: str, view: Traversable, files: ExitStack) -> None:
    try:
        folder = view if isinstance(view, Path) else files.enter_context(as_file(view))
    except OSError:  # before Python 3.12, a folder inside an archive can't be unpacked
        folder = None
    if folder is None or not folder.is_dir():
        log.warning("The skill %r's view() is not a folder on disk: it is left out.", name)
        return
    app.mount(f"{VIEWS}/{name}", StaticFiles(directory=folder, html=True),
              name=f"skill-{name}")
