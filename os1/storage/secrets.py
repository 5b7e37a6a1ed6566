"""Passwords a skill keeps for the person (a mail account's, a calendar's), never in the
database: in the OS keyring where one works (the Secret Service on a desktop), else in a
file only the user can read, in a folder only the user can open (``<home>/secrets``, mode
0700; each file 0600). One place for every skill, so none has to import another's.

Why a file is an acceptable fallback: on a headless machine there is no keyring, and the
file is as private as the user's SSH keys; the database, which may be backed up or shared
with a server, stays free of secrets.

A key names the person first (``<user_id>/<what>``), so what one person's skills keep
never answers for another's. The keyring service and the file prefix keep the names mail
gave them when it alone kept passwords, so passwords kept before are still found.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from os1.errors import MailError

SERVICE = "os1-mail"
_FILE_PREFIX = "mail-"


class SecretMissing(MailError):
    """No password is kept under that key. A ``MailError`` still, as it was when mail
    alone kept passwords: a mail errand that finds none settles as failed, and a
    calendar turns it into its own ``CalendarError``."""


class Secrets:
    def __init__(self, home: Path, use_keyring: bool = True) -> None:
        self.folder = home / "secrets"
        self._keyring = _usable_keyring() if use_keyring else None

    @property
    def where(self) -> str:
        return "the system keyring" if self._keyring is not None else str(self.folder)

    def set(self, key: str, secret: str) -> None:
        if self._keyring is not None:
            self._keyring.set_password(SERVICE, key, secret)
            return
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        path = self._path(key)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(secret)
        path.chmod(0o600)

    def get(self, key: str, hint: str = "") -> str:
        """The password kept under ``key``; ``hint`` says how to set it when none is."""
        if self._keyring is not None:
            found = self._keyring.get_password(SERVICE, key)
            if found is not None:
                return str(found)
        path = self._path(key)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            name = key.split("/")[-1]
            raise SecretMissing(f"No password is kept for {key}.",
                                hint or f"Set it again with the command that added {name}.") \
                from None

    def delete(self, key: str) -> bool:
        """Removes the password kept under ``key`` (keyring and file both); returns
        whether one was kept."""
        kept = False
        if self._keyring is not None:
            with contextlib.suppress(Exception):
                kept = self._keyring.get_password(SERVICE, key) is not None
                self._keyring.delete_password(SERVICE, key)
        path = self._path(key)
        kept = kept or path.exists()
        path.unlink(missing_ok=True)
        return kept

    def _path(self, key: str) -> Path:
        return self.folder / (_FILE_PREFIX + key.replace("/", "--"))


def _usable_keyring() -> Any:
    """The keyring backend, unless it is one that can't store anything here (no D-Bus
    session, the fail or null backend)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    backend = keyring.get_keyring()
    priority = getattr(backend, "priority", 0)
    if isinstance(backend, fail.Keyring) or not priority or priority < 1:
        return None
    return keyring
