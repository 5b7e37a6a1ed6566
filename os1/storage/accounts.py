"""The rows behind ``os1 serve``'s accounts: accounts, their login tokens and invitation
codes, and the wrong passwords tried per username.

Only digests and hashes come here: a token or an invitation code is stored as its SHA-256
digest and a password as its argon2 hash (``server/accounts.py`` makes them), so a copy
of the database opens no one's account. Every store keys a person's rows by their user
id, ``account:<id>`` for an account. Apart from the server (no argon2 or FastAPI here),
so that the command line can find an account's user id.
"""

from __future__ import annotations

from dataclasses import dataclass

from os1.errors import InputError
from os1.storage.db import Database, Row

ACCOUNT_PREFIX = "account:"  # an account's user id, which every store keys its rows by


def account_user_id(account_id: int) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def user_id_of(db: Database, username: str) -> str:
    """The user id the account ``username``'s conversation, memories, mail and calendars
    are kept under (what ``--account USERNAME`` names on the command line)."""
    account_id = AccountTable(db).id_of(username)
    if account_id is None:
        raise InputError(f"There is no os1 serve account called {username!r}.",
                         "Accounts are made by signing up on the server's page or API.")
    return account_user_id(account_id)


class InvitationRefused(InputError):
    """The invitation code is unknown or was used already; nothing was stored."""


@dataclass(frozen=True)
class AccountRow:
    id: int
    username: str
    display_name: str
    created_at: float


@dataclass(frozen=True)
class TokenRow:
    """The account a token digest belongs to, and whether the token still holds."""

    account: AccountRow
    expires_at: float
    revoked_at: float | None


class AccountTable:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, username: str, display_name: str, password_hash: str, at: float,
            invitation_digest: str | None = None) -> int:
        """The new account's id. With ``invitation_digest`` the invitation is used in the
        same transaction: ``InvitationRefused`` if it can't be, and no account is made.
        ``DuplicateError`` if the username is taken (in any case)."""
        with self._db.transaction() as tx:
            account_id = int(tx.execute(
                "INSERT INTO accounts(username, display_name, password_hash, created_at)"
                " VALUES (?,?,?,?) RETURNING id",
                (username, display_name, password_hash, at)).fetchone()[0])
            if invitation_digest is not None:
                used = tx.execute("UPDATE invitations SET used_by = ?, used_at = ?"
                                  " WHERE digest = ? AND used_by IS NULL",
                                  (account_id, at, invitation_digest))
                if used.rowcount != 1:
                    raise InvitationRefused("That invitation code is unknown or already used.",
                                            "Ask whoever runs this server for a new one.")
        return account_id

    def id_of(self, username: str) -> int | None:
        """The id of the account called ``username`` (in any case), None if there is none."""
        row = self._db.execute("SELECT id FROM accounts WHERE lower(username) = lower(?)",
                               (username,)).fetchone()
        return None if row is None else int(row[0])

    def password_hash_of_name(self, username: str) -> tuple[int, str] | None:
        """The id and password hash of the account called ``username`` (in any case)."""
        row = self._db.execute(
            "SELECT id, password_hash FROM accounts WHERE lower(username) = lower(?)",
            (username,)).fetchone()
        return None if row is None else (int(row["id"]), str(row["password_hash"]))

    def password_hash_of(self, account_id: int) -> str | None:
        row = self._db.execute("SELECT password_hash FROM accounts WHERE id = ?",
                               (account_id,)).fetchone()
        return None if row is None else str(row["password_hash"])

    def set_password(self, account_id: int, password_hash: str, at: float,
                     keep_token_digest: str) -> None:
        """A new password hash, and every token of the account but the one kept revoked."""
        with self._db.transaction() as tx:
            tx.execute("UPDATE accounts SET password_hash = ? WHERE id = ?",
                       (password_hash, account_id))
            tx.execute("UPDATE account_tokens SET revoked_at = ? WHERE account_id = ?"
                       " AND revoked_at IS NULL AND digest <> ?",
                       (at, account_id, keep_token_digest))

    def add_token(self, digest: str, account_id: int, at: float, expires_at: float) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO account_tokens(digest, account_id, created_at, expires_at)"
                       " VALUES (?,?,?,?)", (digest, account_id, at, expires_at))

    def token(self, digest: str) -> TokenRow | None:
        """The token with this digest and its account, revoked or expired as it may be."""
        row = self._db.execute(
            "SELECT a.id, a.username, a.display_name, a.created_at, t.expires_at,"
            " t.revoked_at FROM account_tokens AS t JOIN accounts AS a"
            " ON a.id = t.account_id WHERE t.digest = ?", (digest,)).fetchone()
        return None if row is None else _token(row)

    def revoke_token(self, digest: str, at: float) -> None:
        with self._db.transaction() as tx:
            tx.execute("UPDATE account_tokens SET revoked_at = ? WHERE digest = ?"
                       " AND revoked_at IS NULL", (at, digest))

    def revoke_tokens(self, account_id: int, at: float) -> int:
        """Every token of the account still in force revoked; how many there were."""
        with self._db.transaction() as tx:
            cursor = tx.execute("UPDATE account_tokens SET revoked_at = ? WHERE account_id = ?"
                                " AND revoked_at IS NULL", (at, account_id))
            return cursor.rowcount

    def add_invitation(self, digest: str, at: float) -> None:
        with self._db.transaction() as tx:
            tx.execute("INSERT INTO invitations(digest, created_at) VALUES (?,?)", (digest, at))


def _token(row: Row) -> TokenRow:
    account = AccountRow(int(row["id"]), str(row["username"]), str(row["display_name"]),
                         float(row["created_at"]))
    revoked = row["revoked_at"]
    return TokenRow(account, float(row["expires_at"]),
                    None if revoked is None else float(revoked))


class LoginFailures:
    """Wrong passwords tried per username (lower-cased), for the login guard."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def since(self, username: str, after: float) -> tuple[int, float | None]:
        """How many failures ``username`` had after ``after``, and when the last was."""
        row = self._db.execute(
            "SELECT COUNT(*), MAX(at) FROM login_failures WHERE username = ? AND at > ?",
            (username.lower(), after)).fetchone()
        return int(row[0]), None if row[1] is None else float(row[1])

    def add(self, username: str, at: float, forget_before: float) -> None:
        """One more failure; those before ``forget_before`` (no longer counted) go."""
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM login_failures WHERE at <= ?", (forget_before,))
            tx.execute("INSERT INTO login_failures(username, at) VALUES (?, ?)",
                       (username.lower(), at))

    def clear(self, username: str) -> None:
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM login_failures WHERE username = ?", (username.lower(),))
