"""Her calendar, as a skill: found through the ``os1.skills`` entry point like any other."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from os1.calendar.secretary import calendar_desk, forget_passwords
from os1.config import Settings
from os1.skills.contract import BaseSkill, Desk, Person
from os1.skills.intents import builtin_file
from os1.storage.db import Database

if TYPE_CHECKING:
    import click


class CalendarSkill(BaseSkill):
    name = "calendar"
    order = 10  # first: "put the meeting in that mail on my calendar" is the calendar's

    def desk(self, person: Person) -> Desk | None:
        return calendar_desk(person.settings, person.db)

    def intents(self) -> Traversable:
        """What he asks of it, for the intent router (``data/intents/calendar.toml``)."""
        return builtin_file(self.name)

    def forget(self, settings: Settings, db: Database) -> int:
        """The passwords of their CalDAV calendars."""
        return forget_passwords(settings, db)

    def commands(self) -> click.Group:
        """``os1 calendar ...``: imported only when the command line is built."""
        from os1.calendar.commands import calendar_group

        return calendar_group


SKILL = CalendarSkill()
