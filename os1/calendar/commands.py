"""``os1 calendar``: the user's calendars (CalDAV servers and .ics files), what is on, new
events (shown exactly, created only after a yes) and upcoming reminders. The group the
calendar skill adds to the ``os1`` command (``CalendarSkill.commands``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import click
from rich.progress import TaskID
from rich.table import Table

from os1.calendar.desk import create_on_server, weekday_note
from os1.calendar.events import CalendarSource, CalendarStore
from os1.calendar.from_mail import proposal_from_mail
from os1.calendar.ics import Event, new_uid, parse_events
from os1.calendar.reminders import Reminders
from os1.calendar.secretary import connect, secret_key
from os1.calendar.sync import FUTURE_DAYS, PAST_DAYS, sync_calendar
from os1.config import Settings
from os1.errors import CalendarError, InputError
from os1.mail.mailboxes import MailStore
from os1.storage.actions import ActionLog
from os1.storage.secrets import Secrets
from os1.ui.commands import account_option, database, err, out, read_password, task_progress
from os1.when.plans import find_days, find_when


@click.group(name="calendar")
@account_option
def calendar_group() -> None:
    """Your calendar: CalDAV servers and .ics files, what's on, new events, reminders."""


@calendar_group.command(name="add")
@click.argument("name")
@click.option("--url", required=True, help="The CalDAV server, your home on it, or a calendar.")
@click.option("--username", required=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_obj
def add(settings: Settings, name: str, url: str, username: str, password_stdin: bool) -> None:
    """Add a CalDAV calendar NAME (its password goes to the keyring or a private file,
    never the database)."""
    password = read_password(password_stdin)
    with database(settings) as db:
        store = CalendarStore(db, settings.user)
        saved = store.add_source(CalendarSource(name, "caldav", url.strip(), username))
    secrets = Secrets(settings.home)
    secrets.set(secret_key(settings, name), password)
    err.print(f"Added {saved.name} ({saved.url}); the password is in {secrets.where}. "
              f"Fetch its events with: os1 calendar sync {saved.name}", markup=False)


@calendar_group.command(name="remove")
@click.argument("name")
@click.pass_obj
def remove(settings: Settings, name: str) -> None:
    """Remove calendar NAME: its stored events, their reminders and its password (the
    server, or the .ics file, keeps the events)."""
    with database(settings) as db:
        gone = CalendarStore(db, settings.user).remove_source(name)
    Secrets(settings.home).delete(secret_key(settings, name))
    err.print(f"Removed {name} and {gone:,} stored events; they are still where they came "
              "from.", markup=False)


@calendar_group.command(name="sources")
@click.pass_obj
def sources(settings: Settings) -> None:
    """Your calendars and how many events each holds here."""
    with database(settings) as db:
        store = CalendarStore(db, settings.user)
        found = [(s, store.count(s)) for s in store.sources()]
    if not found:
        err.print("No calendars yet. Add one with: os1 calendar add NAME --url ... "
                  "--username ..., or: os1 calendar import FILE.ics")
        return
    table = Table(title="Calendars", title_justify="left")
    for column in ("name", "kind", "where", "events"):
        table.add_column(column)
    for source, count in found:
        table.add_row(source.name, source.kind, source.url, f"{count:,}")
    out.print(table)


@calendar_group.command(name="import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", default=None, help="What to call it (default: the file's name).")
@click.pass_obj
def import_ics(settings: Settings, file: Path, name: str | None) -> None:
    """Import the events of an .ics FILE (importing it again replaces them)."""
    now = datetime.now().astimezone()
    events = parse_events(file.read_bytes(), now - timedelta(days=PAST_DAYS),
                          now + timedelta(days=FUTURE_DAYS))
    label = name or "".join(c if c.isalnum() or c in "._-" else "-" for c in file.stem)[:40]
    with database(settings) as db:
        store = CalendarStore(db, settings.user)
        try:
            source = store.source(label)
        except InputError:
            source = store.add_source(CalendarSource(label, "ics", str(file.resolve())))
        if source.kind != "ics":
            raise InputError(f"{label!r} is a {source.kind} calendar, not an imported file.",
                             "Give another --name.")
        store.replace_events(source, events)
    err.print(f"{label}: {len(events):,} events imported (from {PAST_DAYS} days ago to a "
              "year ahead).", markup=False)


@calendar_group.command(name="sync")
@click.argument("name", required=False)
@click.option("--ca-file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Trust this CA for the server's certificate (your own server).")
@click.pass_obj
def sync(settings: Settings, name: str | None, ca_file: str | None) -> None:
    """Fetch events from every CalDAV calendar (or NAME), a month back to a year ahead."""
    with database(settings) as db:
        store = CalendarStore(db, settings.user)
        chosen = [store.source(name)] if name else \
            [s for s in store.sources() if s.kind == "caldav"]
        if not chosen:
            err.print("No CalDAV calendars yet. Add one with: os1 calendar add NAME ...")
            return
        for source in chosen:
            if source.kind != "caldav":
                raise InputError(f"{source.name} is not a CalDAV calendar; nothing to sync.")
            server = connect(settings, source, ca_file)
            try:
                with task_progress() as bar:
                    task = bar.add_task(source.name, total=None)

                    def advance(done: int, todo: int, task: TaskID = task) -> None:
                        bar.update(task, completed=done, total=todo)

                    count = sync_calendar(store, source, server, datetime.now().astimezone(),
                                          advance)
            finally:
                server.close()
            err.print(f"{source.name}: {count:,} events synced.", markup=False)


@calendar_group.command(name="agenda")
@click.option("--day", default="today", show_default=True,
              help="today, tomorrow, a weekday or a date (2026-12-24).")
@click.option("--days", default=1, show_default=True, type=click.IntRange(1, 366))
@click.pass_obj
def agenda(settings: Settings, day: str, days: int) -> None:
    """What is on, day by day."""
    now = datetime.now().astimezone()
    found = find_days(day, now)
    if found is None:
        raise click.BadParameter(f"{day!r} is not a day I know.", param_hint="--day")
    with database(settings) as db:
        events = CalendarStore(db, settings.user).between(
            found.start, found.start + timedelta(days=days))
    table = Table(title=f"{found.start:%A} {found.start.day} {found.start:%B}"
                  + (f" and {days - 1} days after" if days > 1 else ""), title_justify="left")
    for column in ("when", "what", "where", "calendar"):
        table.add_column(column, overflow="fold")
    for stored in events:
        table.add_row(_when(stored.event), stored.event.title, stored.event.location,
                      stored.source)
    out.print(table if events else "Nothing on.")


@calendar_group.command(name="new")
@click.argument("title")
@click.option("--at", "at", required=True, help='When: "tomorrow 3pm", "2026-12-24 18:00".')
@click.option("--minutes", default=60, show_default=True, type=click.IntRange(1, 60 * 24 * 14))
@click.option("--yes", is_flag=True, help="Don't ask; create it.")
@click.pass_obj
def new(settings: Settings, title: str, at: str, minutes: int, yes: bool) -> None:
    """Create an event TITLE (shown exactly first; created only after you confirm)."""
    now = datetime.now().astimezone()
    when = find_when(at, now)
    if when is None:
        raise click.BadParameter(f"{at!r} is not a time I can read.", param_hint="--at")
    length = timedelta(days=1) if when.all_day else timedelta(minutes=minutes)
    event = Event(new_uid(), " ".join(title.split()), when.start, when.start + length,
                  when.all_day)
    _say_wrong_weekday("yours", when.wrong_weekday, event)
    _create(settings, event, "os1 calendar new", yes)


@calendar_group.command(name="from-mail")
@click.argument("mail_id", type=int)
@click.option("--yes", is_flag=True, help="Don't ask; create it.")
@click.pass_obj
def from_mail(settings: Settings, mail_id: int, yes: bool) -> None:
    """Offer the meeting that mail MAIL_ID mentions as an event (created only after a yes)."""
    now = datetime.now().astimezone()
    with database(settings) as db:
        item = MailStore(db, settings.user).get(mail_id)
    found = proposal_from_mail(item, now)
    if found is None:
        err.print(f"Mail {mail_id} names no meeting with a day and time still to come.")
        return
    _say_wrong_weekday("mail", found.wrong_weekday, found.event)
    _create(settings, found.event, f"mail {mail_id}", yes)


def _say_wrong_weekday(whose: str, wrong: str, event: Event) -> None:
    note = weekday_note(whose, wrong, event.start.astimezone())
    if note:
        err.print(note.strip(), markup=False)


@calendar_group.command(name="remind")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
@click.pass_obj
def remind(settings: Settings, limit: int) -> None:
    """Reminders still to come."""
    now = datetime.now().astimezone()
    with database(settings) as db:
        found = Reminders(db, settings.user).upcoming(now, limit)
    if not found:
        err.print("No reminders to come.")
        return
    table = Table(title="Reminders", title_justify="left")
    for column in ("at", "for", "starts"):
        table.add_column(column, overflow="fold")
    for reminder in found:
        table.add_row(f"{reminder.due_at.astimezone():%a %d %b %H:%M}", reminder.title,
                      f"{reminder.starts_at.astimezone():%H:%M}")
    out.print(table)


def _create(settings: Settings, event: Event, origin: str, yes: bool) -> None:
    """Show exactly what will be created, log it as proposed, and do it only on a yes."""
    with database(settings) as db:
        store = CalendarStore(db, settings.user)
        source = store.writable()
        shown = f'"{event.title}", {_when(event)}, in {source.name}'
        err.print(f"New event: {shown}", markup=False)
        actions = ActionLog(db, settings.user)
        action = actions.propose("create_event", f"Create {shown}", {
            "uid": event.uid, "title": event.title, "start": event.start.isoformat(),
            "end": event.end.isoformat(), "all_day": event.all_day, "source": source.name,
            "origin": origin})
        if not (yes or click.confirm("Create it?", default=False, err=True)):
            actions.settle(action.id, "declined")
            err.print("Not created.")
            return
        try:
            create_on_server(source, event, lambda s: connect(settings, s))
            store.add_event(source, event)
        except CalendarError as error:
            actions.settle(action.id, "failed", error=str(error))
            raise
        actions.settle(action.id, "done")
    err.print(f"Created {shown}.", markup=False)


def _when(event: Event) -> str:
    start, end = event.start.astimezone(), event.end.astimezone()
    day = f"{start:%a} {start.day} {start:%b}"
    if event.all_day:
        return f"{day}, all day"
    return f"{day} {start:%H:%M}–{end:%H:%M}"

