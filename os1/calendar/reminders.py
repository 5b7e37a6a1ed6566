"""Reminders: each timed event gets one its lead time before it (10 minutes unless the
user says otherwise), and more can be added. Each is said exactly once: ``due`` claims a
reminder by setting ``said_at`` only where it is still unset, so two checks (two
interfaces open, a restart mid-check) can't both say it. Time is passed in, so tests
simulate it; ``ReminderBell`` is the thread that checks every few seconds in a real
session and hands the line to whatever interface is open.

One that comes due after its event has begun (the machine was off) is marked missed
instead of said: "you have a meeting in minus two hours" helps no one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from os1.calendar.ics import Event
from os1.data import read_toml
from os1.mail.quote import one_line
from os1.storage.db import Connection, Database, Row

DEFAULT_LEAD_MINUTES = 10
GRACE = timedelta(minutes=5)
CHECK_EVERY_S = 5.0
TITLE_CHARS = 80
_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
          "eighteen", "nineteen", "twenty")


@dataclass(frozen=True)
class Reminder:
    id: int
    title: str
    starts_at: datetime
    due_at: datetime
    said: bool = False


def schedule(tx: Connection, user_id: str, source_id: int, event: Event,
             minutes_before: int) -> None:
    """A reminder for ``event`` (the store calls this as it saves an event); one that
    exists already, said or not, is left as it is."""
    starts = event.start.timestamp()
    tx.execute("INSERT INTO calendar_reminders(user_id, source_id, uid, starts_at, title,"
               " due_at) VALUES (?,?,?,?,?,?) ON CONFLICT DO NOTHING",
               (user_id, source_id, event.uid, starts, event.title,
                starts - 60 * max(0, minutes_before)))


def drop_stale(tx: Connection, user_id: str, source_id: int) -> None:
    """Unsaid reminders whose event is no longer there (moved or cancelled upstream)."""
    tx.execute("DELETE FROM calendar_reminders WHERE user_id = ? AND source_id = ?"
               " AND said_at IS NULL AND NOT EXISTS (SELECT 1 FROM calendar_events AS e"
               " WHERE e.source_id = calendar_reminders.source_id"
               " AND e.uid = calendar_reminders.uid"
               " AND e.starts_at = calendar_reminders.starts_at)", (user_id, source_id))


class Reminders:
    def __init__(self, db: Database, user_id: str, tz: tzinfo | None = None) -> None:
        self._db = db
        self.user_id = user_id
        self.tz = tz
        self.lines = read_toml("calendar.toml")

    def add(self, source_id: int, event: Event, minutes_before: int) -> None:
        with self._db.transaction() as tx:
            schedule(tx, self.user_id, source_id, event, minutes_before)

    def upcoming(self, now: datetime, limit: int = 20) -> list[Reminder]:
        """Reminders not yet said whose event is still to come, soonest first."""
        rows = self._db.execute(
            "SELECT * FROM calendar_reminders WHERE user_id = ? AND said_at IS NULL"
            " AND starts_at > ? ORDER BY due_at, id LIMIT ?",
            (self.user_id, now.timestamp(), max(0, limit))).fetchall()
        return [self._reminder(r) for r in rows]

    def due(self, now: datetime) -> list[Reminder]:
        """The reminders to say at ``now``, each claimed so it is never said again."""
        moment = now.timestamp()
        rows = self._db.execute(
            "SELECT * FROM calendar_reminders WHERE user_id = ? AND said_at IS NULL"
            " AND due_at <= ? ORDER BY due_at, id", (self.user_id, moment)).fetchall()
        said: list[Reminder] = []
        for row in rows:
            missed = moment >= float(row["starts_at"]) + GRACE.total_seconds()
            with self._db.transaction() as tx:
                claimed = tx.execute(
                    "UPDATE calendar_reminders SET said_at = ?, missed = ?"
                    " WHERE user_id = ? AND id = ? AND said_at IS NULL",
                    (moment, int(missed), self.user_id, int(row["id"]))).rowcount
            if claimed == 1 and not missed:
                said.append(self._reminder(row))
        return said

    def unsay(self, reminders: Sequence[Reminder]) -> None:
        """Claimed but never delivered (the page closed as it was sent): due again, for
        whichever interface checks next."""
        with self._db.transaction() as tx:
            for reminder in reminders:
                tx.execute("UPDATE calendar_reminders SET said_at = NULL, missed = 0"
                           " WHERE user_id = ? AND id = ?", (self.user_id, reminder.id))

    def line(self, reminder: Reminder, now: datetime) -> str:
        """What she says: "You have "Dentist" in five minutes." The title is quoted on
        one line, never read as anything but a name."""
        minutes = round((reminder.starts_at - now).total_seconds() / 60)
        title = one_line(reminder.title, TITLE_CHARS) or str(self.lines["untitled"])
        if minutes <= 0:
            return str(self.lines["reminder_now"]).format(title=title)
        if minutes == 1:
            when = str(self.lines["in_one_minute"])
        elif minutes % 60 == 0 and minutes >= 60:
            hours = minutes // 60
            when = str(self.lines["in_one_hour"]) if hours == 1 else \
                str(self.lines["in_hours"]).format(count=_number(hours))
        else:
            when = str(self.lines["in_minutes"]).format(count=_number(minutes))
        return str(self.lines["reminder"]).format(title=title, when=when)

    def _reminder(self, row: Row) -> Reminder:
        zone = self.tz or datetime.now().astimezone().tzinfo or UTC
        return Reminder(int(row["id"]), row["title"],
                        datetime.fromtimestamp(float(row["starts_at"]), zone),
                        datetime.fromtimestamp(float(row["due_at"]), zone),
                        row["said_at"] is not None)


class ReminderBell(threading.Thread):
    """Checks every ``every_s`` seconds and calls ``say`` with each line that is due. A
    daemon thread: it never keeps os1 running; ``stop`` ends it at the next check."""

    def __init__(self, reminders: Reminders, say: Callable[[str], None],
                 clock: Callable[[], float] = time.time, every_s: float = CHECK_EVERY_S) -> None:
        super().__init__(name="os1-reminders", daemon=True)
        self.reminders = reminders
        self.say = say
        self.clock = clock
        self.every_s = every_s
        self._stopped = threading.Event()

    def check(self) -> list[str]:
        """Say what is due now; returns the lines said (also what tests call)."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        lines = [self.reminders.line(r, now) for r in self.reminders.due(now)]
        for line in lines:
            self.say(line)
        return lines

    def run(self) -> None:
        while not self._stopped.is_set():
            # a locked database now is no reason to stop reminding
            with contextlib.suppress(Exception):
                self.check()
            self._stopped.wait(self.every_s)

    def stop(self) -> None:
        self._stopped.set()


def _number(count: int) -> str:
    return _WORDS[count] if 0 <= count < len(_WORDS) else str(count)
