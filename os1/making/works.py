"""What she made for one person: pieces and drawings, each with every version.

Why versions that are never rewritten: "slower" makes a new piece from the old one, and
he may like the first better. Why the files go in through the artefact store only after
they are whole, and the rows in one transaction: a piece that failed half-way (the model
gave up, the renderer ran out of time) leaves nothing behind, and a crash between the
files and the rows leaves only files the store removes again.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path

from os1.data import read_toml
from os1.errors import InputError
from os1.making.records import Character, Version, Work, WorkKind
from os1.storage.artefacts import Artefact, ArtefactNotFound, ArtefactStore
from os1.storage.db import Connection, Database, Row

SKILL = "made"  # the artefact store's folder for every made thing's files
MAX_ABOUT = 500
MAX_TITLE = 80
_WORD = re.compile(r"[a-z0-9']+")


class WorkNotFound(InputError):
    pass


class Works:
    def __init__(self, db: Database, user_id: str, home: Path,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.user_id = user_id
        self.files = ArtefactStore(db, user_id, home)
        self._clock = clock

    def add(self, kind: WorkKind, about: str, version: Version, files: Mapping[str, bytes],
            moment: str = "") -> Work:
        """A new work whose first version is ``version`` with ``files`` (role: content,
        e.g. {"audio": wav}); nothing is kept if any part fails."""
        about = _checked_about(about)
        title = titled(about)
        kept = self._keep_files(kind, title, files)
        try:
            with self._db.transaction() as tx:
                row = tx.execute(
                    "INSERT INTO works(user_id, kind, title, about, moment, created_at)"
                    " VALUES (?,?,?,?,?,?) RETURNING id",
                    (self.user_id, kind, title, about, moment.strip()[:MAX_ABOUT],
                     self._clock())).fetchone()
                work_id = int(row[0])
                self._insert_version(tx, work_id, 1, version, kept)
        except BaseException:
            self._drop(kept)
            raise
        return self.get(work_id)

    def revise(self, work_id: int, version: Version, files: Mapping[str, bytes]) -> Work:
        """``version`` added after the newest; the earlier ones stay as they were."""
        work = self.get(work_id)
        kept = self._keep_files(work.kind, work.title, files)
        try:
            with self._db.transaction() as tx:
                self._insert_version(tx, work_id, work.latest.number + 1, version, kept)
        except BaseException:
            self._drop(kept)
            raise
        return self.get(work_id)

    def all(self, kind: WorkKind | None = None) -> list[Work]:
        """His things, newest first (one kind's, with ``kind``)."""
        sql, args = "SELECT id FROM works WHERE user_id = ?", [self.user_id]
        if kind is not None:
            sql, args = sql + " AND kind = ?", [*args, kind]
        rows = self._db.execute(sql + " ORDER BY id DESC", tuple(args)).fetchall()
        return [self.get(int(r[0])) for r in rows]

    def get(self, work_id: int) -> Work:
        row = self._db.execute("SELECT * FROM works WHERE user_id = ? AND id = ?",
                               (self.user_id, work_id)).fetchone()
        if row is None:
            raise WorkNotFound(f"There is nothing {work_id} that she made for you.",
                               "See what she made with: os1 made")
        versions = self._db.execute(
            "SELECT * FROM work_versions WHERE user_id = ? AND work_id = ? ORDER BY number",
            (self.user_id, work_id)).fetchall()
        return Work(int(row["id"]), row["kind"], str(row["title"]), str(row["about"]),
                    str(row["moment"]), float(row["created_at"]),
                    tuple(_version(v) for v in versions))

    def find(self, words: str, kind: WorkKind | None = None) -> Work | None:
        """The work whose subject shares most words with ``words`` ("the song about the
        beach"), newest first among equals; None when none shares a word that matters."""
        wanted = _words(words)
        best: tuple[int, Work] | None = None
        for work in self.all(kind):
            shared = len(wanted & _words(f"{work.about} {work.title}"))
            if shared and (best is None or shared > best[0]):
                best = (shared, work)
        return None if best is None else best[1]

    def file(self, work_id: int, number: int, role: str) -> Artefact:
        """A version's file by role; WorkNotFound when it has none (or it is gone)."""
        work = self.get(work_id)
        version = next((v for v in work.versions if v.number == number), None)
        if version is None or role not in version.files:
            raise WorkNotFound(f"{work.title!r} has no {role} in version {number}.")
        try:
            artefact = self.files.get(version.files[role])
        except ArtefactNotFound as exc:
            raise WorkNotFound(f"The {role} of {work.title!r} is gone.") from exc
        if artefact.path is None or not artefact.path.is_file():
            raise WorkNotFound(f"The {role} of {work.title!r} is gone.")
        return artefact

    def remove(self, work_id: int) -> Work:
        """The work, its versions and their files."""
        work = self.get(work_id)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM work_versions WHERE user_id = ? AND work_id = ?",
                       (self.user_id, work_id))
            tx.execute("DELETE FROM works WHERE user_id = ? AND id = ?",
                       (self.user_id, work_id))
        for version in work.versions:
            self._drop(version.files)
        return work

    def _keep_files(self, kind: str, title: str, files: Mapping[str, bytes]) -> dict[str, int]:
        kept: dict[str, int] = {}
        try:
            for role, content in files.items():
                name = f"{slug(title)}.{EXTENSIONS[role]}"
                kept[role] = self.files.add(SKILL, f"{kind} {role}", title, content, name).id
        except BaseException:
            self._drop(kept)
            raise
        return kept

    def _drop(self, files: Mapping[str, int]) -> None:
        for artefact_id in files.values():
            with contextlib.suppress(ArtefactNotFound):
                self.files.remove(artefact_id)

    def _insert_version(self, tx: Connection, work_id: int, number: int, version: Version,
                        files: Mapping[str, int]) -> None:
        character = "" if version.character is None else json.dumps(asdict(version.character))
        tx.execute(
            "INSERT INTO work_versions(user_id, work_id, number, request, her_words, source,"
            " character, plan, files, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (self.user_id, work_id, number, version.request.strip()[:MAX_ABOUT],
             version.her_words, version.source, character, "\n".join(version.plan),
             json.dumps(dict(files)), self._clock()))


EXTENSIONS = {"abc": "abc", "midi": "mid", "audio": "wav", "sheet": "svg", "svg": "svg",
              "png": "png"}


def titled(about: str) -> str:
    """A short title from what it is about: its first words, capitalised."""
    words = about.split()
    title = " ".join(words[:8])
    if len(words) > 8 or len(title) > MAX_TITLE:
        title = title[:MAX_TITLE].rstrip(" ,.;:") + "…"
    return title[:1].upper() + title[1:]


def _checked_about(about: str) -> str:
    about = " ".join(about.split())
    if not about:
        raise InputError("Say what it should be about: os1 compose \"our day at the beach\".")
    if len(about) > MAX_ABOUT:
        raise InputError(f"What it is about can be at most {MAX_ABOUT} characters; this is "
                         f"{len(about)}.", "Say it in a sentence or two.")
    return about


def _version(row: Row) -> Version:
    character = json.loads(row["character"]) if row["character"] else None
    files = {str(k): int(v) for k, v in json.loads(row["files"] or "{}").items()}
    return Version(int(row["number"]), str(row["request"]), str(row["her_words"]),
                   str(row["source"]), files, float(row["created_at"]),
                   Character(**character) if character else None,
                   tuple(line for line in str(row["plan"]).split("\n") if line))


def _words(text: str) -> set[str]:
    """The words of a subject that tell one work from another."""
    stop = frozenset(read_toml("making.toml")["find"]["not_telling"])
    return {w for w in _WORD.findall(text.lower()) if w not in stop and len(w) > 2}


def slug(title: str) -> str:
    """A file name's stem from a title: lowercase words joined by '-'."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-")
    return slug or "made"
