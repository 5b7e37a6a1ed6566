"""Which tables hold a person's data, how their rows are found, and which columns name
other rows: the map that export, import and forget-me walk (``person_export``,
``person_import``, ``person_rows``).

Why a map written by hand and checked against the live schema: a table is only safe to
leave out of an export, or to skip when forgetting someone, if someone decided so. Every
table the database holds is either here (``PERSON_TABLES``, in the order an import
writes them: a row's parents first) or in ``NOT_EXPORTED`` with the reason; a table in
neither stops an export (``unmapped_tables``), and forget-me deletes by ``user_id`` from
any table that has the column, mapped or not. Columns are read from the live schema, so a
column added by a later migration travels without a change here, unless it names another
row: then it belongs in ``refs``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from os1.errors import InputError
from os1.storage.db import Database

# How a column names rows of another table (all of them ids, which an import gives
# afresh): "row" must be a row the archive holds; "maybe" may be one since forgotten (kept
# negated, so it names nothing); "floor" is a how-far-done mark (the newest row at or
# before it); "list" is a JSON array of ids; "values" a JSON object of ids; "trash" the
# detail of a mail clean-up action (mail ids under "ids" and "moved").
RefKind = Literal["row", "maybe", "floor", "list", "values", "trash"]


@dataclass(frozen=True)
class Ref:
    table: str
    kind: RefKind = "row"


@dataclass(frozen=True)
class PersonTable:
    name: str
    # a stable order (and the keyset an export pages by); ("id",) means numbered rows,
    # renumbered on import
    key: tuple[str, ...] = ("id",)
    refs: dict[str, Ref] = field(default_factory=dict)
    # columns never exported (a password's hash)
    never: tuple[str, ...] = ()

    @property
    def numbered(self) -> bool:
        return self.key == ("id",)


MEMORY = Ref("memories")
PERSON_TABLES: tuple[PersonTable, ...] = (
    PersonTable("accounts", never=("password_hash",)),
    PersonTable("sessions"),
    PersonTable("messages", refs={"session_id": Ref("sessions")}),
    PersonTable("setups"),
    PersonTable("memories", refs={"superseded_by": MEMORY,
                                  "source_message_ids": Ref("messages", "list")}),
    PersonTable("memory_links", ("memory_id", "source_id"),
                {"memory_id": MEMORY, "source_id": MEMORY}),
    PersonTable("memory_events", refs={"memory_id": Ref("memories", "maybe"),
                                       "detail": Ref("memories", "values")}),
    PersonTable("memory_progress", ("user_id",),
                {"last_message_id": Ref("messages", "floor"),
                 "last_moment_id": Ref("messages", "floor"),
                 "last_reflected_id": Ref("memories", "floor")}),
    PersonTable("moods", ("user_id",)),
    PersonTable("mood_events", refs={"message_id": Ref("messages", "maybe")}),
    PersonTable("self_versions", refs={"source_ids": Ref("memories", "list")}),
    PersonTable("mail_accounts"),
    PersonTable("mail_folders", ("account_id", "folder"), {"account_id": Ref("mail_accounts")}),
    PersonTable("mail_messages", refs={"account_id": Ref("mail_accounts")}),
    PersonTable("actions", refs={"detail": Ref("mail_messages", "trash")}),
    PersonTable("calendar_sources"),
    PersonTable("calendar_events", refs={"source_id": Ref("calendar_sources")}),
    PersonTable("calendar_reminders", refs={"source_id": Ref("calendar_sources")}),
    # the rows of what her skills made; their files stay in the data dir (artefacts.py)
    PersonTable("artefacts"),
    # his letters: every version, her suggestions waiting for his answer, the changes he
    # said no to (letters/library.py)
    PersonTable("letters"),
    PersonTable("letter_versions", refs={"letter_id": Ref("letters")}),
    PersonTable("letter_edits", refs={"letter_id": Ref("letters")}),
    PersonTable("letter_rejections"),
    # what she made for them: pieces and drawings, every version (making/works.py)
    PersonTable("works"),
    PersonTable("work_versions", refs={"work_id": Ref("works"),
                                       "files": Ref("artefacts", "values")}),
    # her own time with them: their rules, the messages she started, what she did
    # (life/)
    PersonTable("life_rules", ("user_id",)),
    PersonTable("outreach", refs={"memory_id": Ref("memories", "maybe")}),
    PersonTable("life_log"),
)
BY_NAME = {table.name: table for table in PERSON_TABLES}

NOT_EXPORTED: dict[str, str] = {
    "schema_migrations": "the schema's own record; the manifest gives its version",
    "account_tokens": "login tokens (as digests): an imported account logs in afresh",
    "invitations": "the server's sign-up codes (forget-me deletes the one they used)",
    "login_failures": "wrong passwords of the last 15 minutes (forget-me deletes theirs)",
    "memory_claims": "which server worker writes their memories now (a lease)",
}

# User ids that are no one's to import into: the server's shared self (memory/
# shared_self.py) and the accounts' own (storage/accounts.py: "account:<id>").
SHARED_SELF_USER = "her"
_ACCOUNT_USER = re.compile(r"account:(\d+)")


@dataclass(frozen=True)
class Person:
    user_id: str
    account_id: int | None = None
    username: str | None = None


def person_of(db: Database, user_id: str) -> Person:
    """Who ``user_id`` is: an ``os1 serve`` account (with its username) or a local user."""
    found = _ACCOUNT_USER.fullmatch(user_id)
    if found is None:
        return Person(user_id)
    account_id = int(found.group(1))
    row = db.execute("SELECT username FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise InputError(f"There is no account {account_id} here.")
    return Person(user_id, account_id, str(row[0]))


def is_reserved(user_id: str) -> bool:
    """Whether ``user_id`` can't be a local person's: it is an account's or hers."""
    return user_id == SHARED_SELF_USER or _ACCOUNT_USER.fullmatch(user_id) is not None


def scope(table: PersonTable, person: Person) -> tuple[str, tuple[object, ...]]:
    """The WHERE condition (and its parameters) that finds the person's rows."""
    if table.name == "accounts":
        return "id = ?", (person.account_id if person.account_id is not None else -1,)
    return "user_id = ?", (person.user_id,)


def unmapped_tables(db: Database) -> list[str]:
    """Tables of the live schema in neither ``PERSON_TABLES`` nor ``NOT_EXPORTED``."""
    known = set(BY_NAME) | set(NOT_EXPORTED)
    return [name for name in db.table_names() if name not in known]


def quoted(name: str) -> str:
    """An identifier from the live schema, quoted for SQL."""
    return '"' + name.replace('"', '""') + '"'
