"""Forget-me: a person gone from os1, everywhere, with an account of what went.

Their rows in every table (``storage.person_rows``: the FTS entries go with them and the
freed pages are zeroed), the vector index file of their memories, the model's saved
states of their conversation (``os1 chat``'s and ``os1 serve``'s), the files of the things
her skills made for them, what each installed skill keeps for them outside the database
(the passwords of their mail and calendar accounts: ``Skill.forget``), and, for the local
person, the logins this data dir keeps for other servers. Files are zeroed before they are
removed. Her one self on a server (``shared_self``) is nobody's and stays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from os1.config import Settings
from os1.memory.indexed_vectors import drop_index
from os1.skills.registry import installed_skills
from os1.storage.artefacts import forget_files
from os1.storage.db import Database
from os1.storage.person_rows import delete_person
from os1.storage.person_tables import Person, person_of
from os1.storage.private_files import shred

log = logging.getLogger(__name__)


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
    passwords = _forget_in_skills(db, home, user_id)
    rows = delete_person(db, person)
    files = drop_index(db, user_id) + [p for p in _state_files(home, user_id) if shred(p)]
    files += forget_files(home, user_id)
    if person.account_id is None and shred(home / "servers.json"):
        files.append(home / "servers.json")
    return Forgotten(person, rows, files, passwords)


def _forget_in_skills(db: Database, home: Path, user_id: str) -> int:
    """What each installed skill keeps for them outside the database (their mail and
    calendar passwords), removed while their rows still say what was kept."""
    as_them, removed = Settings(home=home, user=user_id), 0
    for skill in installed_skills():
        try:
            removed += skill.forget(as_them, db)
        except Exception:  # one broken plugin must not keep a person from being forgotten
            log.exception("The skill %r failed to forget what it keeps for %s; the rest "
                          "is forgotten.", skill.name, user_id)
    return removed


def _state_files(home: Path, user_id: str) -> list[Path]:
    """The model's saved states of their conversation: ``os1 chat``'s (``opened`` in
    ui/commands.py) and the server's kept states (server/states.py), with a save cut off
    half-way."""
    state = (home / "state").resolve()
    saved = [state / f"{user_id}.kv", state / "server" / f"{user_id.replace(':', '-')}.kv"]
    return [p for kv in saved for p in (kv, kv.with_name(kv.name + ".partial"))
            if p.resolve().is_relative_to(state)]
