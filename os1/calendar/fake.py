"""An in-process ``CalendarServer`` for unit tests: events in a list, what was created
kept apart so a test can see it, and a switch that makes creating fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from os1.calendar.ics import Event
from os1.errors import CalendarError


@dataclass
class FakeCalendarServer:
    stored: list[Event] = field(default_factory=list)
    created: list[Event] = field(default_factory=list)
    refuse_create: bool = False

    def events(self, start: datetime, end: datetime) -> list[Event]:
        return sorted((e for e in self.stored if e.end > start and e.start < end),
                      key=lambda e: (e.start, e.title))

    def create(self, event: Event) -> None:
        if self.refuse_create:
            raise CalendarError("The fake server refused the event.")
        self.created.append(event)
        self.stored.append(event)

    def close(self) -> None:
        pass
