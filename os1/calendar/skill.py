"""Her calendar, as a skill: found through the ``os1.skills`` entry point like any other."""

from __future__ import annotations

from os1.calendar.secretary import calendar_desk
from os1.skills.contract import BaseSkill, Desk, Person


class CalendarSkill(BaseSkill):
    name = "calendar"
    order = 10  # first: "put the meeting in that mail on my calendar" is the calendar's

    def desk(self, person: Person) -> Desk | None:
        return calendar_desk(person.settings, person.db)


SKILL = CalendarSkill()
