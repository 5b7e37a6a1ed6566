"""Her files are readable by their owner alone.

Conversations, memories, mail and the model's saved state (which holds the words of a
conversation) were created world-readable (0644, the data directory 0755) on a shared
machine (issue 25). What os1 creates is 0700 for a directory and 0600 for a file; a
directory it did not create (the user's own choice of place) is left as it is.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import BinaryIO, cast

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` and any missing parents made for the owner alone."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for directory in reversed(missing):
        directory.mkdir(mode=DIR_MODE, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """``path`` exists and only its owner can read it (an older, readable one is closed).

    An existing file is never opened here, only chmod-ed: closing any descriptor of a
    SQLite database drops every POSIX lock the process holds on it, and a second
    connection opening in a process whose first was writing corrupted the database
    ("database disk image is malformed"; sqlite.org/howtocorrupt.html, 2.2)."""
    private_dir(path.parent)
    if not path.exists():
        with contextlib.suppress(FileExistsError):  # O_EXCL: never an existing file's fd
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, FILE_MODE))
    if path.stat().st_mode & 0o777 != FILE_MODE:
        os.chmod(path, FILE_MODE)
    return path


def open_private(path: Path) -> BinaryIO:
    """A file to write (bytes), created for its owner alone."""
    private_dir(path.parent)
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, FILE_MODE)
    os.chmod(path, FILE_MODE)
    return cast(BinaryIO, os.fdopen(descriptor, "wb"))


def shred(path: Path) -> bool:
    """``path`` overwritten with zeros (synced) and removed: what a forgotten person left
    in a file should not stay in the blocks the file lets go. Never for a SQLite
    database, whose locks a descriptor closed here would drop (see ``private_file``).
    Returns whether there was such a file."""
    try:
        with path.open("r+b") as file:
            left = file.seek(0, os.SEEK_END)
            file.seek(0)
            while left > 0:
                left -= file.write(bytes(min(left, 2**20)))
            file.flush()
            os.fsync(file.fileno())
    except (FileNotFoundError, IsADirectoryError):
        return False
    path.unlink(missing_ok=True)
    return True
