"""The user's calendar sources and the events synced or imported from them, scoped by
user like everything else: one person's events never reach another's queries.

A source is a CalDAV calendar (its URL and username; the password is kept by
os1/storage/secrets.py, never here), an imported .ics file, or 'local': the events she keeps
herself when there is no server to put them on. Events are stored as occurrences
(recurrences expanded), times as Unix seconds; each future timed event gets a reminder
its lead time before it (see reminders.py).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Literal

from os1.calendar.ics import Event
from os1.calendar.reminders import DEFAULT_LEAD_MINUTES, drop_stale, schedule
from os1.errors import InputError
from os1.storage.db import Connection, Database, Row

SourceKind = Literal["caldav", "ics", "local"]
LOCAL = "os1"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")


@dataclass(frozen=True)
class CalendarSource:
    name: str
    kind: SourceKind
    url: str = ""
    username: str = ""
    id: int = 0
    synced_at: float | None = None


@dataclass(frozen=True)
class StoredEvent:
    id: int
    source: str
    source_id: int
    event: Event


class CalendarSourceNotFound(InputError):
    def __init__(self, name: str) -> None:
        super().__init__(f"There is no calendar called {name!r}.",
                         "See yours with: os1 calendar sources")


class CalendarStore:
    def __init__(self, db: Database, user_id: str, tz: tzinfo | None = None,
                 lead_minutes: int = DEFAULT_LEAD_MINUTES,
                 clock: Callable[[], float] = time.time) -> None:
        """``tz``: the zone events are shown in (the machine's when None); ``clock``: now,
        for deciding which events are still to come (tests pass a simulated one)."""
        self._db = db
        self.user_id = user_id
        self.tz = tz
        self.lead_minutes = lead_minutes
        self.clock = clock

    # -- sources -------------------------------------------------------------------------

    def add_source(self, source: CalendarSource) -> CalendarSource:
        if not _NAME.match(source.name):
            raise InputError(f"{source.name!r} can't name a calendar.",
                             "Use letters, digits, '.', '_' or '-' (up to 40).")
        with self._db.transaction() as tx:
            if self._row(tx, source.name) is not None:
                raise InputError(f"You already have a calendar called {source.name!r}.",
                                 "Choose another name, or remove it first.")
            tx.execute("INSERT INTO calendar_sources(user_id, name, kind, url, username,"
                       " created_at) VALUES (?,?,?,?,?,?)",
                       (self.user_id, source.name, source.kind, source.url, source.username,
                        time.time()))
        return self.source(source.name)

    def sources(self) -> list[CalendarSource]:
        rows = self._db.execute("SELECT * FROM calendar_sources WHERE user_id = ? ORDER BY id",
                                (self.user_id,)).fetchall()
        return [_to_source(r) for r in rows]

    def source(self, name: str) -> CalendarSource:
        row = self._db.execute("SELECT * FROM calendar_sources WHERE user_id = ? AND name = ?",
                               (self.user_id, name)).fetchone()
        if row is None:
            raise CalendarSourceNotFound(name)
        return _to_source(row)

    def writable(self) -> CalendarSource:
        """Where a new event goes: the first CalDAV calendar, else her own local one."""
        for source in self.sources():
            if source.kind == "caldav":
                return source
        try:
            return self.source(LOCAL)
        except CalendarSourceNotFound:
            return self.add_source(CalendarSource(LOCAL, "local"))

    def remove_source(self, name: str) -> int:
        """Forget a calendar and its stored events (the server keeps them)."""
        source = self.source(name)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM calendar_reminders WHERE user_id = ? AND source_id = ?",
                       (self.user_id, source.id))
            gone = tx.execute("DELETE FROM calendar_events WHERE user_id = ? AND source_id = ?",
                              (self.user_id, source.id)).rowcount
            tx.execute("DELETE FROM calendar_sources WHERE user_id = ? AND id = ?",
                       (self.user_id, source.id))
        return int(gone)

    # -- events --------------------------------------------------------------------------

    def replace_events(self, source: CalendarSource, events: Sequence[Event],
                       start: datetime | None = None, end: datetime | None = None) -> int:
        """What the source holds now, in one transaction: its stored events in
        ``[start, end)`` (all of them when no window) give way to ``events``. Reminders
        already said stay said; those of events that are gone are dropped."""
        with self._db.transaction() as tx:
            sql = "DELETE FROM calendar_events WHERE user_id = ? AND source_id = ?"
            args: list[object] = [self.user_id, source.id]
            if start is not None and end is not None:
                sql += " AND starts_at < ? AND ends_at > ?"
                args += [end.timestamp(), start.timestamp()]
            tx.execute(sql, args)
            for event in events:
                self._insert(tx, source, event)
            drop_stale(tx, self.user_id, source.id)
            tx.execute("UPDATE calendar_sources SET synced_at = ? WHERE user_id = ? AND id = ?",
                       (time.time(), self.user_id, source.id))
        return len(events)

    def add_event(self, source: CalendarSource, event: Event,
                  lead_minutes: int | None = None) -> StoredEvent:
        """One new event (she created it, after the user said yes); its reminder comes
        ``lead_minutes`` before it (the store's lead when None; 0 for "remind me to")."""
        with self._db.transaction() as tx:
            self._insert(tx, source, event, lead_minutes)
        row = self._db.execute(
            f"{_SELECT} WHERE e.user_id = ? AND e.source_id = ? AND e.uid = ?"
            " ORDER BY e.starts_at LIMIT 1", (self.user_id, source.id, event.uid)).fetchone()
        return self._to_event(row)

    def between(self, start: datetime, end: datetime, limit: int = 500) -> list[StoredEvent]:
        """Events overlapping ``[start, end)``, earliest first."""
        rows = self._db.execute(
            f"{_SELECT} WHERE e.user_id = ? AND e.starts_at < ? AND e.ends_at > ?"
            " ORDER BY e.starts_at, e.title, e.id LIMIT ?",
            (self.user_id, end.timestamp(), start.timestamp(), max(0, limit))).fetchall()
        # an instant event (end == start) at the window's start still counts
        instants = self._db.execute(
            f"{_SELECT} WHERE e.user_id = ? AND e.starts_at = ? AND e.ends_at = e.starts_at",
            (self.user_id, start.timestamp())).fetchall()
        found = {int(r["id"]): self._to_event(r) for r in [*rows, *instants]}
        return sorted(found.values(), key=lambda s: (s.event.start, s.event.title, s.id))

    def count(self, source: CalendarSource | None = None) -> int:
        sql = "SELECT COUNT(*) FROM calendar_events WHERE user_id = ?"
        args: list[object] = [self.user_id]
        if source is not None:
            sql, args = sql + " AND source_id = ?", [*args, source.id]
        return int(self._db.execute(sql, args).fetchone()[0])

    def _insert(self, tx: Connection, source: CalendarSource, event: Event,
                lead_minutes: int | None = None) -> None:
        starts, ends = event.start.timestamp(), event.end.timestamp()
        tx.execute(
            "INSERT INTO calendar_events(user_id, source_id, uid, starts_at, ends_at, all_day,"
            " title, location, description) VALUES (?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT DO NOTHING",
            (self.user_id, source.id, event.uid, starts, ends, int(event.all_day), event.title,
             event.location, event.description))
        if not event.all_day and starts > self.clock():
            lead = self.lead_minutes if lead_minutes is None else lead_minutes
            schedule(tx, self.user_id, source.id, event, lead)

    def _row(self, tx: Connection, name: str) -> Row | None:
        return tx.execute("SELECT 1 FROM calendar_sources WHERE user_id = ? AND name = ?",
                          (self.user_id, name)).fetchone()

    def _to_event(self, row: Row) -> StoredEvent:
        zone = self.tz or datetime.now().astimezone().tzinfo or UTC
        event = Event(uid=row["uid"], title=row["title"],
                      start=datetime.fromtimestamp(float(row["starts_at"]), zone),
                      end=datetime.fromtimestamp(float(row["ends_at"]), zone),
                      all_day=bool(row["all_day"]), location=row["location"],
                      description=row["description"])
        return StoredEvent(int(row["id"]), row["source_name"], int(row["source_id"]), event)


_SELECT = ("SELECT e.*, s.name AS source_name FROM calendar_events AS e"
           " JOIN calendar_sources AS s ON s.id = e.source_id")


def _to_source(row: Row) -> CalendarSource:
    synced = row["synced_at"]
    return CalendarSource(name=row["name"], kind=row["kind"], url=row["url"],
                          username=row["username"], id=int(row["id"]),
                          synced_at=None if synced is None else float(synced))
