"""His letters, one person's: each letter's versions are kept whole and never rewritten,
so an edit, her accepted suggestions or a dictated addition each add a version, and the
newest is the letter as it stands.

Why versions and not an update in place: a letter is his work. Whatever goes wrong (an
edit he regrets, a suggestion that read better in the list than on the page, a crash in
the middle of saving), every text he once had is still there to go back to.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from os1.errors import InputError
from os1.letters.reading import MAX_LETTER_CHARS, guessed_title
from os1.letters.records import Letter, LetterVersion
from os1.storage.db import Connection, Database, Row

MAX_TITLE = 120
MAX_FOR = 120


class LetterNotFound(InputError):
    pass


class LetterLibrary:
    def __init__(self, db: Database, user_id: str,
                 clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self.user_id = user_id
        self._clock = clock

    def add(self, text: str, title: str = "", written_for: str = "",
            note: str = "added") -> Letter:
        """A new letter with ``text`` as its first version; its title is its first line
        when none is given."""
        text = checked_text(text)
        title = _checked(title.strip() or guessed_title(text) or "A letter", "title", MAX_TITLE)
        written_for = _checked(written_for.strip(), "name of who it is for", MAX_FOR,
                               empty_ok=True)
        now = self._clock()
        with self._db.transaction() as tx:
            row = tx.execute(
                "INSERT INTO letters(user_id, title, written_for, created_at)"
                " VALUES (?,?,?,?) RETURNING id",
                (self.user_id, title, written_for, now)).fetchone()
            letter_id = int(row[0])
            self._add_version(tx, letter_id, 1, text, note, now)
        return self.get(letter_id)

    def all(self) -> list[Letter]:
        """His letters, oldest first (the order he wrote them in, the book's order)."""
        rows = self._db.execute("SELECT id FROM letters WHERE user_id = ? ORDER BY id",
                                (self.user_id,)).fetchall()
        return [self.get(int(r[0])) for r in rows]

    def get(self, letter_id: int) -> Letter:
        row = self._db.execute("SELECT * FROM letters WHERE user_id = ? AND id = ?",
                               (self.user_id, letter_id)).fetchone()
        if row is None:
            raise LetterNotFound(f"There is no letter {letter_id} of yours.",
                                 "See your letters with: os1 letters list")
        newest = self.versions(letter_id)[-1]
        return _letter(row, newest)

    def versions(self, letter_id: int) -> list[LetterVersion]:
        rows = self._db.execute(
            "SELECT number, text, note, created_at FROM letter_versions"
            " WHERE user_id = ? AND letter_id = ? ORDER BY number",
            (self.user_id, letter_id)).fetchall()
        if not rows:
            raise LetterNotFound(f"There is no letter {letter_id} of yours.",
                                 "See your letters with: os1 letters list")
        return [LetterVersion(int(r["number"]), str(r["text"]), str(r["note"]),
                              float(r["created_at"])) for r in rows]

    def version(self, letter_id: int, number: int) -> LetterVersion:
        for version in self.versions(letter_id):
            if version.number == number:
                return version
        raise InputError(f"Letter {letter_id} has no version {number}.",
                         f"See its versions with: os1 letters show {letter_id} --versions")

    def revise(self, letter_id: int, text: str, note: str) -> Letter:
        """``text`` as the letter's newest version; the same text as now adds nothing."""
        text = checked_text(text)
        current = self.get(letter_id)
        if text == current.text:
            return current
        with self._db.transaction() as tx:
            self._add_version(tx, letter_id, current.version + 1, text, note, self._clock())
        return self.get(letter_id)

    def describe(self, letter_id: int, title: str | None = None,
                 written_for: str | None = None) -> Letter:
        """A new title, or who it was for ('' for no one named)."""
        current = self.get(letter_id)
        title = current.title if title is None else _checked(title.strip(), "title",
                                                              MAX_TITLE)
        if written_for is None:
            written_for = current.written_for
        written_for = _checked(written_for.strip(), "name of who it is for", MAX_FOR,
                               empty_ok=True)
        with self._db.transaction() as tx:
            tx.execute("UPDATE letters SET title = ?, written_for = ?"
                       " WHERE user_id = ? AND id = ?",
                       (title, written_for, self.user_id, letter_id))
        return self.get(letter_id)

    def choose(self, letter_id: int, chosen: bool, reason: str = "") -> Letter:
        """Among the best (for the book), with why; or not."""
        self.get(letter_id)
        with self._db.transaction() as tx:
            tx.execute("UPDATE letters SET chosen = ?, chosen_reason = ?"
                       " WHERE user_id = ? AND id = ?",
                       (int(chosen), reason.strip() if chosen else "", self.user_id,
                        letter_id))
        return self.get(letter_id)

    def chosen(self) -> list[Letter]:
        return [letter for letter in self.all() if letter.chosen]

    def remove(self, letter_id: int) -> Letter:
        """The letter, all its versions and her suggestions on it are gone."""
        letter = self.get(letter_id)
        with self._db.transaction() as tx:
            for table in ("letter_edits", "letter_versions"):
                tx.execute(f"DELETE FROM {table} WHERE user_id = ? AND letter_id = ?",
                           (self.user_id, letter_id))
            tx.execute("DELETE FROM letters WHERE user_id = ? AND id = ?",
                       (self.user_id, letter_id))
        return letter

    def _add_version(self, tx: Connection, letter_id: int, number: int, text: str,
                     note: str, now: float) -> None:
        tx.execute("INSERT INTO letter_versions(user_id, letter_id, number, text, note,"
                   " created_at) VALUES (?,?,?,?,?,?)",
                   (self.user_id, letter_id, number, text, note.strip()[:200], now))


def checked_text(text: str) -> str:
    """The letter's text with its line endings made plain, or a precise refusal."""
    if len(text) > MAX_LETTER_CHARS:
        raise InputError(f"That letter is {len(text):,} characters long; a letter here can "
                         f"be at most {MAX_LETTER_CHARS:,}.",
                         "Split it into several letters, or keep the long text as a file.")
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    if not text.strip():
        raise InputError("That letter is empty.", "Write or paste the letter, then add it.")
    if "\x00" in text:
        raise InputError("That letter holds a NUL character, so it isn't plain text.",
                         "Give it as text, Markdown or a .docx file.")
    return text


def _checked(value: str, what: str, limit: int, empty_ok: bool = False) -> str:
    if not value and not empty_ok:
        raise InputError(f"A letter's {what} can't be empty.")
    if len(value) > limit or "\n" in value:
        raise InputError(f"A letter's {what} must be one line of at most {limit} characters.")
    return value


def _letter(row: Row, newest: LetterVersion) -> Letter:
    return Letter(int(row["id"]), str(row["title"]), str(row["written_for"]), newest.text,
                  newest.number, float(row["created_at"]), newest.created_at,
                  bool(row["chosen"]), str(row["chosen_reason"]))
