"""Her mail, as a skill: found through the ``os1.skills`` entry point like any other."""

from __future__ import annotations

from os1.mail.secretary import mail_desk
from os1.skills.contract import BaseSkill, Desk, Person


class MailSkill(BaseSkill):
    name = "mail"
    order = 20  # after the calendar, which also reads mail for meetings

    def desk(self, person: Person) -> Desk | None:
        return mail_desk(person.db, person.settings.user, person.settings.home, person.model,
                         person.name, person.memories)


SKILL = MailSkill()
