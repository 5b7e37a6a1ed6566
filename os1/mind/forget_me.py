"""Forget-me: a person gone from os1, everywhere, with an account of what went.

Their rows in every table (``storage.person_rows``: the FTS entries go with them and the
freed pages are zeroed), the vector index file of their memories, the model's saved
states of their conversation (``os1 chat``'s and ``os1 serve``'s), the passwords of their
mail and calendar accounts (keyring or file), and, for the local person, the logins this
data dir keeps for other servers. Files are zeroed before they are removed. Her one self
on a server (``shared_self``) is nobody's and stays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from os1.calendar.secretary import secret_key
from os1.config import Settings
from os1.errors import MailError
from os1.mail.secretary import account_key
from os1.mail.secrets import Secrets
from os1.memory.indexed_vectors import drop_index
from os1.storage.db import Database
from os1.storage.person_rows import delete_person
from os1.storage.person_tables import Person, person_of
from os1.storage.private_files import shred


@dataclass(frozen=True)
class Forgotten:
    person: Person
    rows: dict[str, int]
    files: list[Path]
    passwords: int

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def forget_person(db: Database, home: Path, user_id: str) -> Forgotten:
    """Delete ``user_id`` (a local person, or an account with everything of theirs) for
    good. The caller makes sure nothing is writing for them meanwhile."""
    person = person_of(db, user_id)
    keys = _password_keys(db, home, user_id)
    rows = delete_person(db, person)
    files = drop_index(db, user_id) + [p for p in _state_files(home, user_id) if shred(p)]
    if person.account_id is None and shred(home / "servers.json"):
        files.append(home / "servers.json")
    return Forgotten(person, rows, files, _delete_passwords(home, keys))


def _password_keys(db: Database, home: Path, user_id: str) -> list[str]:
    """Where the passwords of their mail accounts and calendars are kept."""
    mail = [account_key(user_id, str(r[0])) for r in db.execute(
        "SELECT name FROM mail_accounts WHERE user_id = ?", (user_id,))]
    as_them = Settings(home=home, user=user_id)
    calendars = [secret_key(as_them, str(r[0])) for r in db.execute(
        "SELECT name FROM calendar_sources WHERE user_id = ?", (user_id,))]
    return mail + calendars


def _delete_passwords(home: Path, keys: list[str]) -> int:
    if not keys:
        return 0
    secrets, deleted = Secrets(home), 0
    for key in keys:
        try:
            secrets.get(key)
            deleted += 1
        except MailError:
            pass  # none kept
        secrets.delete(key)
    return deleted


def _state_files(home: Path, user_id: str) -> list[Path]:
    """The model's saved states of their conversation: ``os1 chat``'s (cli.py) and the
    server's kept states (server/states.py), with a save cut off half-way."""
    state = (home / "state").resolve()
    saved = [state / f"{user_id}.kv", state / "server" / f"{user_id.replace(':', '-')}.kv"]
    return [p for kv in saved for p in (kv, kv.with_name(kv.name + ".partial"))
            if p.resolve().is_relative_to(state)]
