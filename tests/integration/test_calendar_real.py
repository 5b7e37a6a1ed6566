"""The calendar against a real CalDAV server, Radicale, started here on loopback
(tests/calendar_servers.py): events put on the server with the caldav client (one of them
repeating) are synced and answered from; an event she creates after a yes is read back
from the server by a separate client; a wrong password and a missing server say so; a
reminder fires at its simulated time; and the real ``os1 calendar`` command does the same."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import caldav
import icalendar
import pytest

from os1.calendar.desk import CalendarDesk
from os1.calendar.events import CalendarSource, CalendarStore
from os1.calendar.reminders import ReminderBell, Reminders
from os1.calendar.server import CalDavServer
from os1.calendar.sync import sync_calendar
from os1.errors import CalendarError
from os1.storage.actions import ActionLog
from os1.storage.db import Database
from tests.calendar_servers import Radicale
from tests.mail_servers import free_port

OS1 = [sys.executable, "-m", "os1"]
PASSWORD = "a long caldav password"
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def radicale() -> Iterator[Radicale]:
    server = Radicale().start()
    yield server
    server.stop()


@pytest.fixture
def user(radicale: Radicale, request: pytest.FixtureRequest) -> str:
    name = f"user{abs(hash(request.node.name)) % 10**8}"
    radicale.add_user(name, PASSWORD)
    return name


def client(radicale: Radicale, user: str) -> Any:
    """An independent CalDAV client: what another calendar program would see."""
    make: Any = caldav.DAVClient  # its __init__ is typed loosely
    return make(url=radicale.url, username=user, password=PASSWORD)


def tomorrow_at(hour: int, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime.combine(datetime.now(BERLIN).date() + timedelta(days=1), time(hour),
                            tzinfo=zone)


@pytest.fixture
def calendar(radicale: Radicale, user: str) -> Any:
    """A calendar on the server holding a dentist tomorrow, a weekly choir that began a
    week ago, and something the day after tomorrow."""
    home = client(radicale, user).principal().make_calendar(name="Home")
    home.save_event(vevent("dentist", tomorrow_at(15), "Dentist", location="Main St 1"))
    home.save_event(vevent("choir", tomorrow_at(19) - timedelta(days=7), "Choir",
                           rrule="FREQ=WEEKLY"))
    home.save_event(vevent("haircut", tomorrow_at(10) + timedelta(days=1), "Haircut"))
    return home


def vevent(uid: str, start: datetime, title: str, location: str = "",
           rrule: str = "") -> str:
    """One event as another calendar program would write it: local times with their
    VTIMEZONE, so a weekly event keeps its hour across daylight-saving changes."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//os1 tests//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", f"{uid}@os1.test")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(hours=1))
    event.add("summary", title)
    if location:
        event.add("location", location)
    if rrule:
        event.add("rrule", icalendar.vRecur.from_ical(rrule))
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return str(calendar.to_ical().decode())


def connect(radicale: Radicale, user: str, password: str = PASSWORD) -> CalDavServer:
    return CalDavServer(radicale.url, user, password, tz=BERLIN)


def synced(db: Database, radicale: Radicale, user: str) -> CalendarStore:
    store = CalendarStore(db, "theo", BERLIN)
    source = store.add_source(CalendarSource("home", "caldav", radicale.url, user))
    server = connect(radicale, user)
    try:
        sync_calendar(store, source, server, datetime.now(BERLIN))
    finally:
        server.close()
    return store


def test_sync_reads_the_servers_events_and_she_answers_what_is_on_tomorrow(
        db: Database, radicale: Radicale, user: str, calendar: Any) -> None:
    store = synced(db, radicale, user)
    choir = [s for s in store.between(datetime.now(BERLIN), datetime.now(BERLIN)
                                      + timedelta(days=365)) if s.event.title == "Choir"]
    assert len(choir) >= 51, "the weekly choir is expanded for the year ahead"
    assert all(s.event.start.astimezone(BERLIN).hour == 19 for s in choir)
    desk = CalendarDesk(db, "theo", tz=BERLIN)
    answer = desk.answer("What do I have tomorrow?")
    assert answer is not None
    assert answer.said == ('You have 2 things tomorrow: "Dentist" at 15:00, at Main St 1; '
                           '"Choir" at 19:00.')


def test_an_event_created_after_yes_is_on_the_server(
        db: Database, radicale: Radicale, user: str, calendar: Any) -> None:
    synced(db, radicale, user)
    desk = CalendarDesk(db, "theo", connect=lambda s: connect(radicale, user), tz=BERLIN)
    offer = desk.answer("add piano lesson tomorrow at 5pm")
    assert offer is not None and offer.said.endswith("Say yes or no.")

    def on_server() -> list[Any]:
        found = calendar.search(start=tomorrow_at(0), end=tomorrow_at(23), event=True)
        return [e.icalendar_component for e in found
                if str(e.icalendar_component.get("SUMMARY")) == "piano lesson"]

    assert on_server() == [], "nothing is created before the yes"
    done = desk.answer("yes")
    assert done is not None and done.said.startswith('Done: "piano lesson"')
    [created] = on_server()
    assert created.decoded("DTSTART") == tomorrow_at(17)
    assert created.decoded("DTEND") == tomorrow_at(18)
    assert ActionLog(db, "theo").recent()[0].status == "done"


def test_a_wrong_password_or_a_missing_server_is_a_clear_error(
        radicale: Radicale, user: str, calendar: Any) -> None:
    with pytest.raises(CalendarError) as wrong:
        connect(radicale, user, "not the password")
    assert "refused the login" in str(wrong.value) and "password" in wrong.value.hint
    assert "not the password" not in str(wrong.value) + wrong.value.hint
    with pytest.raises(CalendarError, match="Can't reach the calendar server"):
        CalDavServer(f"http://127.0.0.1:{free_port()}/", user, PASSWORD)
    with pytest.raises(CalendarError, match="plain http"):
        CalDavServer("http://cal.example.org/", user, PASSWORD)


def test_a_reminder_fires_at_its_simulated_time(
        db: Database, radicale: Radicale, user: str, calendar: Any) -> None:
    synced(db, radicale, user)
    moment = [tomorrow_at(14, BERLIN) + timedelta(minutes=49)]
    said: list[str] = []
    bell = ReminderBell(Reminders(db, "theo", BERLIN), said.append, lambda: moment[0].timestamp())
    assert bell.check() == [], "not early"
    moment[0] += timedelta(minutes=1)
    assert bell.check() == ['You have "Dentist" in ten minutes.']
    moment[0] += timedelta(minutes=5)
    assert bell.check() == [] and said == ['You have "Dentist" in ten minutes.']


def os1(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OS1, *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=300, check=False)


def test_the_os1_calendar_command_adds_syncs_shows_and_creates(
        os1_env: dict[str, str], radicale: Radicale, user: str, calendar: Any) -> None:
    os1_env["TZ"] = "Europe/Berlin"
    added = os1(os1_env, "calendar", "add", "home", "--url", radicale.url, "--username", user,
                "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    synced_ = os1(os1_env, "calendar", "sync")
    assert synced_.returncode == 0, synced_.stderr
    assert "home:" in synced_.stderr and "events synced" in synced_.stderr
    agenda = os1(os1_env, "calendar", "agenda", "--day", "tomorrow")
    assert agenda.returncode == 0, agenda.stderr
    assert "Dentist" in agenda.stdout and "Choir" in agenda.stdout
    assert "Haircut" not in agenda.stdout
    declined = os1(os1_env, "calendar", "new", "Team lunch", "--at", "tomorrow 12:30",
                   stdin="n\n")
    assert 'New event: "Team lunch"' in declined.stderr and "Not created." in declined.stderr
    created = os1(os1_env, "calendar", "new", "Team lunch", "--at", "tomorrow 12:30", "--yes")
    assert created.returncode == 0, created.stderr
    titles = [str(e.icalendar_component.get("SUMMARY"))
              for e in calendar.search(start=tomorrow_at(0), end=tomorrow_at(23), event=True)]
    assert titles.count("Team lunch") == 1, "declined once, created once"
    reminders = os1(os1_env, "calendar", "remind")
    assert "Team lunch" in reminders.stdout and "Dentist" in reminders.stdout
    wrong = os1(os1_env, "calendar", "add", "work", "--url", radicale.url, "--username", user,
                "--password-stdin", stdin="wrong\n")
    assert wrong.returncode == 0
    failed = os1(os1_env, "calendar", "sync", "work")
    assert failed.returncode == 1 and "refused the login" in failed.stderr
    for stored in Path(os1_env["OS1_HOME"]).glob("os1.db*"):
        assert PASSWORD.encode() not in stored.read_bytes(), "never in the database"
