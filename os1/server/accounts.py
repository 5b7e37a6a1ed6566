"""Accounts, logins and invitations for ``os1 serve``.

A person's data is stored under ``user_id = "account:<id>"``; every store in os1 scopes its
queries by that id, so the only way to another person's data would be another person's
token. Tokens are 256-bit random strings shown once; the database keeps their SHA-256
digest only, as it keeps only argon2 hashes of passwords.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from os1.data import read_toml
from os1.errors import InputError, OS1Error
from os1.server.login_guard import LoginGuard
from os1.storage.accounts import AccountTable, InvitationRefused, account_user_id
from os1.storage.db import Database, DuplicateError

MIN_STRENGTH = 2  # zxcvbn's 0-4 scale; 2: "somewhat guessable", beyond online guessing
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


class AuthError(OS1Error):
    """Wrong password, or a token that is unknown, expired or revoked."""


class SignUpError(InputError):
    pass


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    display_name: str
    created_at: float
    # the token it was found by, for a long connection to check again that it still holds
    token: str = field(default="", repr=False, compare=False)

    @property
    def user_id(self) -> str:
        return account_user_id(self.id)


@dataclass(frozen=True)
class Login:
    token: str
    expires_at: float


def guessable(password: str) -> str | None:
    """Why ``password`` would fall to a guesser, or None. zxcvbn's estimate (common
    passwords, words, dates, keyboard runs, repeats): "password", "12345678" and eight
    spaces were accepted (issue 25). It reads at most 72 characters; a longer password's
    start is what a guesser tries first anyway."""
    found = zxcvbn(password[:72])
    if found["score"] >= MIN_STRENGTH:
        return None
    return str(found["feedback"]["warning"] or "it is a common pattern.").rstrip(".") + "."


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class AccountStore:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time,
                 hasher: PasswordHasher | None = None) -> None:
        self._table = AccountTable(db)
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self.guard = LoginGuard(db, clock=clock)
        config = read_toml("server.toml")["accounts"]
        self.token_s = float(config["token_days"]) * 86400
        self.min_password = int(config["min_password_chars"])
        self.max_username = int(config["max_username_chars"])
        # verifying against this keeps "no such user" as slow as "wrong password"
        self._decoy = self._hasher.hash(secrets.token_hex(16))

    def sign_up(self, username: str, password: str, display_name: str = "",
                invitation: str | None = None, invitation_required: bool = False) -> Account:
        self._check_new(username, password)
        name = " ".join((display_name or username).split())[:80]
        with self.guard.hashing():  # slow on purpose: before the transaction
            password_hash = self._hasher.hash(password)
        now = self._clock()
        code = digest(invitation or "") if invitation_required or invitation else None
        try:
            account_id = self._table.add(username, name, password_hash, now, code)
        except DuplicateError as exc:
            raise SignUpError(f"The username {username!r} is taken.",
                              "Choose another one.") from exc
        except InvitationRefused as exc:
            raise SignUpError(str(exc), exc.hint) from exc
        return Account(account_id, username, name, now)

    def log_in(self, username: str, password: str) -> Login:
        self.guard.check(username)
        found = self._table.password_hash_of_name(username)
        if not self._matches(username, found[1] if found else None, password):
            raise AuthError("Wrong username or password.")
        assert found is not None
        token = secrets.token_urlsafe(32)
        now = self._clock()
        self._table.add_token(digest(token), found[0], now, now + self.token_s)
        return Login(token, now + self.token_s)

    def account_for(self, token: str) -> Account:
        """The account a token belongs to; AuthError if it is unknown, expired or revoked."""
        found = self._table.token(digest(token))
        if found is None:
            raise AuthError("That token is not known here.", "Log in again.")
        if found.revoked_at is not None:
            raise AuthError("That token was revoked (logged out).", "Log in again.")
        if found.expires_at <= self._clock():
            raise AuthError("That token has expired.", "Log in again.")
        row = found.account
        return Account(row.id, row.username, row.display_name, row.created_at, token)

    def check_password(self, account: Account, password: str) -> None:
        """AuthError unless ``password`` is the account's: for what a token alone must not
        do (deleting the account). Guarded like a log-in; no token is made."""
        self.guard.check(account.username)
        if not self._matches(account.username, self._table.password_hash_of(account.id),
                             password):
            raise AuthError("Wrong password.")

    def _matches(self, username: str, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` is the one hashed, counted by the login guard. Without a
        hash the decoy is verified, so an unknown name takes as long as a wrong password."""
        try:
            with self.guard.hashing():
                self._hasher.verify(password_hash or self._decoy, password)
        except (VerificationError, InvalidHashError):
            password_hash = None
        if password_hash is None:
            self.guard.failed(username)
            return False
        self.guard.succeeded(username)
        return True

    def hash_new_password(self, password: str) -> str:
        """The argon2 hash of a new password, refused (``SignUpError``) if it is too short
        or too easy to guess: for an account brought in by ``os1 import``."""
        self._check_password(password)
        with self.guard.hashing():
            return self._hasher.hash(password)

    def change_password(self, account: Account, current: str, new: str) -> None:
        """The current password proves it is them (a stolen token alone can't lock them
        out); every token but the one in use is revoked."""
        self.check_password(account, current)
        self._check_password(new)
        with self.guard.hashing():
            hashed = self._hasher.hash(new)
        self._table.set_password(account.id, hashed, self._clock(), digest(account.token))

    def still_signed_in(self, account: Account) -> None:
        """AuthError once the token an open connection logged in with is revoked or has
        expired: a WebSocket went on working after "log out" (issue 25)."""
        self.account_for(account.token)

    def revoke(self, token: str) -> None:
        self._table.revoke_token(digest(token), self._clock())

    def revoke_all(self, account_id: int) -> int:
        return self._table.revoke_tokens(account_id, self._clock())

    def invite(self) -> str:
        """A one-use invitation code (shown once; only its digest is kept)."""
        code = secrets.token_urlsafe(12)
        self._table.add_invitation(digest(code), self._clock())
        return code

    def _check_new(self, username: str, password: str) -> None:
        if not _USERNAME.fullmatch(username) or len(username) > self.max_username:
            raise SignUpError(
                f"A username is 1-{self.max_username} letters, digits, '.', '_' or '-', "
                "starting with a letter or digit.")
        self._check_password(password)

    def _check_password(self, password: str) -> None:
        if len(password) < self.min_password:
            raise SignUpError(f"A password needs at least {self.min_password} characters.")
        if len(password) > 1024:
            raise SignUpError("A password may have at most 1024 characters.")
        weak = guessable(password)
        if weak is not None:
            raise SignUpError(f"That password is too easy to guess: {weak}",
                              "A few unrelated words together make a strong one.")
