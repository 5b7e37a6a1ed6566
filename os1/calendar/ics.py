""".ics (iCalendar) in and out: ``parse_events`` turns a calendar file into ``Event``s with
aware start and end times, recurring events expanded within a window; ``to_ics`` writes
one event as a VCALENDAR a CalDAV server accepts.

Why expand here rather than store rules: "what do I have tomorrow?" and reminders need
concrete occurrences, and recurring-ical-events handles RRULE, EXDATE, RDATE and
overridden instances (RECURRENCE-ID) as servers write them. A file is data from anyone:
what can't be parsed raises a ``CalendarError`` saying so, and each text field is cut to a
size a person would write, so one hostile event can't fill the database.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events

from os1.errors import CalendarError
from os1.visible_text import visible

MAX_ICS_BYTES = 20_000_000
MAX_OCCURRENCES = 20_000
TITLE_CHARS = 500
TEXT_CHARS = 4_000
PRODID = "-//os1//calendar//EN"


@dataclass(frozen=True)
class Event:
    """One occurrence: a recurring event gives one ``Event`` per occurrence, all with its
    uid. An all-day event starts and ends at midnight in the user's time zone."""

    uid: str
    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    location: str = ""
    description: str = ""


_NO_CALENDAR = "That file holds no calendar (no BEGIN:VCALENDAR)."


def new_uid() -> str:
    return f"{uuid.uuid4()}@os1"


def parse_events(data: bytes, start: datetime, end: datetime,
                 tz: tzinfo | None = None) -> list[Event]:
    """The events of ``data`` that overlap ``[start, end)``, sorted by start. Floating
    times and all-day dates are read in ``tz`` (the machine's zone when None)."""
    zone = tz or _local_zone()
    if len(data) > MAX_ICS_BYTES:
        raise CalendarError(f"That calendar file is {len(data) / 1e6:.0f} MB; the most os1 "
                            f"reads is {MAX_ICS_BYTES / 1e6:.0f} MB.",
                            "Export a shorter range of dates from your calendar program.")
    if b"BEGIN:VCALENDAR" not in data.upper():
        raise CalendarError(_NO_CALENDAR, "It should be an iCalendar (.ics) file.")
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise CalendarError(f"That is not a calendar file os1 can read: {_reason(exc)}.",
                            "It should be an iCalendar (.ics) file, as calendar programs "
                            "export.") from exc
    if not calendars or not any(c.name == "VCALENDAR" for c in calendars):
        raise CalendarError(_NO_CALENDAR, "It should be an iCalendar (.ics) file.")
    events: list[Event] = []
    for calendar in calendars:
        try:
            occurrences = recurring_ical_events.of(calendar, skip_bad_series=True).between(
                start, end)
        except Exception as exc:  # the library raises many kinds on broken rules
            raise CalendarError(f"A repeating event in that calendar can't be read: "
                                f"{_reason(exc)}.") from exc
        for component in occurrences[:MAX_OCCURRENCES]:
            if component.name == "VEVENT" and "DTSTART" in component:
                events.append(_event(component, zone))
    return sorted(events, key=lambda e: (e.start, e.title))


def to_ics(event: Event) -> bytes:
    """One event as a whole VCALENDAR (what a CalDAV PUT takes)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    item = icalendar.Event()
    item.add("uid", event.uid)
    item.add("summary", event.title)
    item.add("dtstamp", datetime.now(UTC))
    if event.all_day:
        item.add("dtstart", event.start.date())
        item.add("dtend", event.end.date())
    else:
        item.add("dtstart", event.start.astimezone(UTC))
        item.add("dtend", event.end.astimezone(UTC))
    if event.location:
        item.add("location", event.location)
    if event.description:
        item.add("description", event.description)
    calendar.add_component(item)
    return bytes(calendar.to_ical())


def _event(component: Any, zone: tzinfo) -> Event:
    start_value = component.decoded("DTSTART")
    all_day = isinstance(start_value, date) and not isinstance(start_value, datetime)
    start = _moment(start_value, zone)
    if "DTEND" in component:
        end = _moment(component.decoded("DTEND"), zone)
    elif "DURATION" in component:
        end = start + component.decoded("DURATION")
    else:
        end = start + (timedelta(days=1) if all_day else timedelta(0))
    return Event(uid=_text(component.get("UID"), TITLE_CHARS) or new_uid(),
                 title=_text(component.get("SUMMARY"), TITLE_CHARS),
                 start=start, end=max(end, start), all_day=all_day,
                 location=_text(component.get("LOCATION"), TITLE_CHARS),
                 description=_text(component.get("DESCRIPTION"), TEXT_CHARS))


def _moment(value: date | datetime, zone: tzinfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)
    return datetime.combine(value, time(0), tzinfo=zone)


def _text(value: object, limit: int) -> str:
    """A stranger's field as visible text (os1/visible_text.py), within ``limit``."""
    return "" if value is None else visible(str(value))[:limit]


def _local_zone() -> tzinfo:
    zone = datetime.now().astimezone().tzinfo
    return zone if zone is not None else UTC


def _reason(exc: BaseException) -> str:
    """The library's message, short and printable: it quotes the offending line, which in
    a binary file is raw bytes."""
    text = " ".join(str(exc).split())
    text = "".join(c if c.isprintable() and c != "\ufffd" else "?" for c in text)
    return text[:120] + ("…" if len(text) > 120 else "") or type(exc).__name__
