"""Things her skills make for a person (a letter, a drawing, a note): a file in the
person's own folder of the data dir plus a row saying which skill made it, what it is and
when, so ``os1 things`` and ``GET /api/artefacts`` list them the same way for every skill.

Why the file apart from its row: what a skill makes can be large and binary, and is the
person's to open with their own tools. The folder is ``<home>/artefacts/<person>/`` (0700,
each file 0600), and a row's ``path`` is relative to it, so a data dir moved elsewhere keeps
its things. A path that would leave the folder (a row from a tampered archive) names no
file: nothing outside the person's folder is ever read, listed as theirs, or removed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from os1.errors import DiskFull, InputError, StorageError
from os1.storage.db import Database, Row
from os1.storage.private_files import open_private, private_dir, shred

SKILL = re.compile(r"[a-z][a-z0-9-]{0,39}")
PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,120}")
MAX_TITLE = 200
MAX_KIND = 40


class ArtefactNotFound(InputError):
    pass


@dataclass(frozen=True)
class Artefact:
    id: int
    skill: str
    kind: str
    title: str
    # None when the row's path is not one inside the person's folder
    path: Path | None
    created_at: float


def person_folder(home: Path, user_id: str) -> Path:
    """Where ``user_id``'s things are kept: their id spelt so that no two ids share a
    folder and none climbs out of ``artefacts/`` ('.' spelt too)."""
    return home / "artefacts" / quote(user_id, safe="").replace(".", "%2E")


class ArtefactStore:
    def __init__(self, db: Database, user_id: str, home: Path) -> None:
        self._db = db
        self.user_id = user_id
        self.folder = person_folder(home, user_id)

    def add(self, skill: str, kind: str, title: str, content: bytes | str,
            name: str) -> Artefact:
        """Keeps ``content`` as a file named after ``name`` (e.g. ``letter.txt``) in the
        skill's part of the person's folder, and its row. The file is written whole
        before the row exists, and removed if the row can't be written."""
        _check(skill, kind, title, name)
        data = content.encode("utf-8") if isinstance(content, str) else content
        relative = f"{skill}/{secrets.token_hex(4)}-{name}"
        path = self.folder / relative
        _write(path, data)
        try:
            with self._db.transaction() as tx:
                row = tx.execute(
                    "INSERT INTO artefacts(user_id, skill, kind, title, path, created_at)"
                    " VALUES (?,?,?,?,?,?) RETURNING id",
                    (self.user_id, skill, kind, title.strip(), relative, time.time()),
                ).fetchone()
        except BaseException:
            shred(path)
            raise
        return self.get(int(row[0]))

    def list(self, skill: str | None = None) -> list[Artefact]:
        """The person's things, newest first (one skill's, with ``skill``)."""
        sql, args = "SELECT * FROM artefacts WHERE user_id = ?", [self.user_id]
        if skill is not None:
            sql, args = sql + " AND skill = ?", [*args, skill]
        rows = self._db.execute(sql + " ORDER BY id DESC", tuple(args)).fetchall()
        return [self._artefact(r) for r in rows]

    def get(self, artefact_id: int) -> Artefact:
        row = self._db.execute("SELECT * FROM artefacts WHERE user_id = ? AND id = ?",
                               (self.user_id, artefact_id)).fetchone()
        if row is None:
            raise ArtefactNotFound(f"There is no thing {artefact_id} of yours.",
                                   "See what there is with: os1 things")
        return self._artefact(row)

    def remove(self, artefact_id: int) -> Artefact:
        """The row and its file (zeroed, then removed) are gone."""
        artefact = self.get(artefact_id)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM artefacts WHERE user_id = ? AND id = ?",
                       (self.user_id, artefact_id))
        if artefact.path is not None:
            shred(artefact.path)
        return artefact

    def _artefact(self, row: Row) -> Artefact:
        return Artefact(int(row["id"]), row["skill"], row["kind"], row["title"],
                        self._inside(str(row["path"])), float(row["created_at"]))

    def _inside(self, relative: str) -> Path | None:
        parts = relative.split("/")
        if len(parts) != 2 or not all(PART.fullmatch(p) for p in parts):
            return None
        return self.folder.joinpath(*parts)


def forget_files(home: Path, user_id: str) -> list[Path]:
    """Every file in ``user_id``'s folder zeroed and removed, then the folder (forget-me:
    the rows go with the person's other rows). Returns the files removed."""
    folder = person_folder(home, user_id)
    if not folder.is_dir() or folder.is_symlink():
        return []
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()]
    gone = [p for p in files if shred(p)]
    for directory in sorted((p for p in folder.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):  # something not a file of theirs stays
            directory.rmdir()
    with contextlib.suppress(OSError):
        folder.rmdir()
    return gone


def _check(skill: str, kind: str, title: str, name: str) -> None:
    if not SKILL.fullmatch(skill):
        raise InputError(f"{skill!r} is not a skill's name (lowercase letters, digits, '-').")
    if not kind.strip() or len(kind) > MAX_KIND:
        raise InputError(f"A thing's kind must be 1 to {MAX_KIND} characters, not {kind!r}.")
    if not title.strip() or len(title) > MAX_TITLE:
        raise InputError(f"A thing's title must be 1 to {MAX_TITLE} characters; "
                         f"this one has {len(title.strip())}.")
    if not PART.fullmatch(name):
        raise InputError(f"{name!r} can't be a file name here: use letters, digits, '.', "
                         "'_' and '-', starting with a letter or digit.")


def _write(path: Path, data: bytes) -> None:
    """``data`` at ``path`` whole or not at all (written beside it, then renamed)."""
    private_dir(path.parent)
    partial = path.with_name(path.name + ".partial")
    try:
        with open_private(partial) as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)
    except OSError as exc:
        shred(partial)
        if exc.errno == errno.ENOSPC:
            raise DiskFull("The disk is full, so the thing she made could not be kept.",
                           "Free some space and ask again.") from exc
        raise StorageError(f"Can't write {path}: {exc.strerror}.") from exc
