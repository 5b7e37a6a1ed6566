"""Her skills for one person, the same in ``os1 chat``, ``os1 talk`` and ``os1 serve``:
every installed skill (``skills/registry.py``) is given the person, and the desks they
open are asked through one intent router."""

from __future__ import annotations

from collections.abc import Callable

from os1.config import Settings
from os1.llm.base import Model
from os1.skills.contract import MemorySearch, Person
from os1.skills.registry import installed_skills
from os1.skills.router import IntentRouter
from os1.storage.db import Database
from os1.storage.setups import user_name


def skill_desks(settings: Settings, db: Database, model: Callable[[], Model],
                memories: MemorySearch | None) -> IntentRouter:
    """``model``: the one to draft replies with, asked for when needed; ``memories``: who
    "my sister" is (none without her long-term memory)."""
    person = Person(settings, db, model, memories, user_name(db, settings.user))
    pairs = [(skill, desk) for skill in installed_skills()
             if (desk := skill.desk(person)) is not None]
    return IntentRouter(pairs, model)
