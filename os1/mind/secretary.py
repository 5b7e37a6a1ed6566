"""Her secretary's desks for one person, the same in ``os1 chat`` and ``os1 serve``: the
calendar first, then the mail (see mind/desks.py for why the order matters)."""

from __future__ import annotations

from collections.abc import Callable

from os1.calendar.secretary import calendar_desk
from os1.config import Settings
from os1.llm.base import Model
from os1.mail.people import Search
from os1.mail.secretary import mail_desk
from os1.mind.desks import Desks
from os1.storage.db import Database
from os1.storage.setups import SetupStore


def secretary_desks(settings: Settings, db: Database, model: Callable[[], Model],
                    memories: Search | None) -> Desks:
    """``model``: the one to draft replies with, asked for when needed; ``memories``: who
    "my sister" is (none without her long-term memory)."""
    return Desks([calendar_desk(settings, db),
                  mail_desk(db, settings.user, settings.home, model,
                            user_name(db, settings.user), memories)])


def user_name(db: Database, user_id: str) -> str:
    """What the person asked to be called at setup (how a drafted reply is signed)."""
    setup = SetupStore(db, user_id).current()
    return setup.user_name if setup is not None else "the user"
