"""How an ``os1 serve`` account is named in storage: every store keys its rows by this
user id. Apart from the rest of the server (no argon2 or FastAPI needed), so that the
command line's ``--account`` can read it."""

from __future__ import annotations

from os1.errors import InputError
from os1.storage.db import Database


def account_user_id(account_id: int) -> str:
    return f"account:{account_id}"


def user_id_of(db: Database, username: str) -> str:
    """The user id the account ``username``'s conversation, memories, mail and calendars
    are kept under."""
    row = db.execute("SELECT id FROM accounts WHERE lower(username) = lower(?)",
                     (username,)).fetchone()
    if row is None:
        raise InputError(f"There is no os1 serve account called {username!r}.",
                         "Accounts are made by signing up on the server's page or API.")
    return account_user_id(int(row[0]))
