"""Her mail, as a skill: found through the ``os1.skills`` entry point like any other."""

from __future__ import annotations

from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from os1.config import Settings
from os1.mail.secretary import forget_passwords, mail_desk
from os1.skills.contract import BaseSkill, Desk, Person
from os1.skills.intents import builtin_file
from os1.storage.db import Database

if TYPE_CHECKING:
    import click


class MailSkill(BaseSkill):
    name = "mail"
    order = 20  # after the calendar, which also reads mail for meetings

    def desk(self, person: Person) -> Desk | None:
        return mail_desk(person.db, person.settings.user, person.settings.home, person.model,
                         person.name, person.memories)

    def intents(self) -> Traversable:
        """What he asks of it, for the intent router (``data/intents/mail.toml``)."""
        return builtin_file(self.name)

    def forget(self, settings: Settings, db: Database) -> int:
        """The passwords of their mail accounts."""
        return forget_passwords(db, settings.user, settings.home)

    def commands(self) -> click.Group:
        """``os1 mail ...``: imported only when the command line is built."""
        from os1.mail.commands import mail_group

        return mail_group


SKILL = MailSkill()
