"""Her calendar desk, put together for one user: the store, the real CalDAV edge (with the
password from the keyring, fetched only when an errand needs the server) and the mail
she may find meetings in."""

from __future__ import annotations

from os1.calendar.desk import CalendarDesk
from os1.calendar.events import CalendarSource, CalendarStore
from os1.calendar.server import CalDavServer
from os1.config import Settings
from os1.errors import CalendarError
from os1.mail.mailboxes import MailStore
from os1.storage.db import Database
from os1.storage.secrets import SecretMissing, Secrets


def secret_key(settings: Settings, name: str) -> str:
    """Where a calendar's password is kept (keyring entry or file name)."""
    return f"{settings.user}/calendar-{name}"


def forget_passwords(settings: Settings, db: Database) -> int:
    """Removes the passwords kept for ``settings.user``'s calendars; returns how many were."""
    secrets = Secrets(settings.home)
    return sum(secrets.delete(secret_key(settings, source.name))
               for source in CalendarStore(db, settings.user).sources())


def connect(settings: Settings, source: CalendarSource,
            ca_file: str | None = None) -> CalDavServer:
    """The CalDAV server of ``source``, logged in with the password kept for it."""
    try:
        password = Secrets(settings.home).get(secret_key(settings, source.name))
    except SecretMissing:
        raise CalendarError(f"No password is kept for the calendar {source.name}.",
                            f"Add it again with: os1 calendar add {source.name} --url ...") \
            from None
    return CalDavServer(source.url, source.username, password, ca_file=ca_file)


def calendar_desk(settings: Settings, db: Database) -> CalendarDesk:
    return CalendarDesk(db, settings.user, connect=lambda source: connect(settings, source),
                        mail=MailStore(db, settings.user))
