"""Her skills' desks for one person, the same in ``os1 chat`` and ``os1 serve``."""

from __future__ import annotations

from collections.abc import Callable

from os1.calendar.skill import SKILL as CALENDAR
from os1.config import Settings
from os1.llm.base import Model
from os1.mail.skill import SKILL as MAIL
from os1.skills.contract import MemorySearch, Person
from os1.skills.router import IntentRouter
from os1.storage.db import Database
from os1.storage.setups import SetupStore


def secretary_desks(settings: Settings, db: Database, model: Callable[[], Model],
                    memories: MemorySearch | None) -> IntentRouter:
    """``model``: the one to draft replies with, asked for when needed; ``memories``: who
    "my sister" is (none without her long-term memory)."""
    person = Person(settings, db, model, memories, user_name(db, settings.user))
    pairs = [(skill, desk) for skill in (CALENDAR, MAIL)
             if (desk := skill.desk(person)) is not None]
    return IntentRouter(pairs, model)


def user_name(db: Database, user_id: str) -> str:
    """What the person asked to be called at setup (how a drafted reply is signed)."""
    setup = SetupStore(db, user_id).current()
    return setup.user_name if setup is not None else "the user"
