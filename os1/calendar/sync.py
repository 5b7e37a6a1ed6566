"""Sync one CalDAV calendar into the store: the events from a month back to a year ahead,
fetched a month at a time (a progress bar moves, and no single answer is huge), then put
in place of what was stored for that window in one transaction, so a sync cut off
half-way leaves the last complete one as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from os1.calendar.events import CalendarSource, CalendarStore
from os1.calendar.ics import Event
from os1.calendar.server import CalendarServer

PAST_DAYS = 30
FUTURE_DAYS = 365
CHUNK_DAYS = 30


def sync_calendar(store: CalendarStore, source: CalendarSource, server: CalendarServer,
                  now: datetime, progress: Callable[[int, int], None] | None = None) -> int:
    """``progress(done, todo)`` after each month fetched. Returns how many events (as
    occurrences) the window holds now."""
    start = now - timedelta(days=PAST_DAYS)
    end = now + timedelta(days=FUTURE_DAYS)
    chunks = range(0, PAST_DAYS + FUTURE_DAYS, CHUNK_DAYS)
    events: list[Event] = []
    for done, offset in enumerate(chunks, start=1):
        a = start + timedelta(days=offset)
        b = min(a + timedelta(days=CHUNK_DAYS), end)
        # an event that overlaps two months is kept once, by the month it starts in
        events += [e for e in server.events(a, b) if a <= e.start < b or
                   (offset == 0 and e.start < a)]
        if progress is not None:
            progress(done, len(chunks))
    return store.replace_events(source, events, start, end)
