"""His answers to her suggestions on a letter: each one accepted or rejected (one by one,
all of a kind, or all), kept until every one is answered; then the accepted ones make the
letter's next version and the rejected ones are remembered, so she never suggests them
again.

Why kept in the database and not in the conversation: he may read her suggestions in
``os1 letters check`` today and answer tomorrow in the web page, and a suggestion's span
belongs to the version she read; if the letter changed since, applying it would put his
yes in the wrong place, so that is refused.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from os1.errors import InputError
from os1.letters.library import LetterLibrary
from os1.letters.proofread import apply_edits
from os1.letters.records import EDIT_KINDS, Edit, Letter
from os1.storage.db import Database, Row

Decision = Literal["accepted", "rejected"]


@dataclass(frozen=True)
class Suggestion:
    """Her suggestion number ``number`` on a letter, and his answer ('' for none yet)."""

    number: int
    edit: Edit
    decision: str


@dataclass(frozen=True)
class Outcome:
    """What his answers did: the letter (a new version once all are answered), and how
    many were accepted, rejected and are still waiting."""

    letter: Letter
    accepted: int
    rejected: int
    waiting: int


class Reviews:
    def __init__(self, db: Database, user_id: str, library: LetterLibrary) -> None:
        self._db = db
        self.user_id = user_id
        self.library = library

    def open(self, letter: Letter, edits: Iterable[Edit]) -> list[Suggestion]:
        """Her suggestions on ``letter`` as it is now, replacing any she made before."""
        now = time.time()
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM letter_edits WHERE user_id = ? AND letter_id = ?",
                       (self.user_id, letter.id))
            for number, e in enumerate(edits, 1):
                tx.execute(
                    "INSERT INTO letter_edits(user_id, letter_id, version, number, start_at,"
                    " end_at, original, replacement, kind, reason, source, created_at)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (self.user_id, letter.id, letter.version, number, e.start, e.end,
                     e.original, e.replacement, e.kind, e.reason, e.source, now))
        return self.suggestions(letter.id)

    def suggestions(self, letter_id: int) -> list[Suggestion]:
        rows = self._db.execute(
            "SELECT * FROM letter_edits WHERE user_id = ? AND letter_id = ? ORDER BY number",
            (self.user_id, letter_id)).fetchall()
        return [_suggestion(r) for r in rows]

    def decide(self, letter_id: int, decision: Decision, numbers: Iterable[int] = (),
               kind: str | None = None) -> Outcome:
        """His ``decision`` on suggestions ``numbers``, or on all of ``kind``, or (neither
        given) on every one not yet answered. When none is left waiting, the accepted ones
        are made."""
        waiting = self.suggestions(letter_id)
        if not waiting:
            raise InputError(f"There are no suggestions of mine on letter {letter_id} "
                             "waiting for you.",
                             f"Ask me to read it over: os1 letters check {letter_id}")
        chosen = _chosen(waiting, list(numbers), kind)
        with self._db.transaction() as tx:
            for s in chosen:
                tx.execute("UPDATE letter_edits SET decision = ? WHERE user_id = ? AND"
                           " letter_id = ? AND number = ?",
                           (decision, self.user_id, letter_id, s.number))
                if decision == "rejected":
                    tx.execute(
                        "INSERT INTO letter_rejections(user_id, original, replacement, kind,"
                        " created_at) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
                        (self.user_id, s.edit.original.lower(), s.edit.replacement.lower(),
                         s.edit.kind, time.time()))
        return self._settle(letter_id, finish=False)

    def finish(self, letter_id: int) -> Outcome:
        """Make the accepted suggestions now; the ones not answered are dropped."""
        return self._settle(letter_id, finish=True)

    def rejected(self) -> set[tuple[str, str]]:
        """The changes he said no to, lowercased: (his words, her suggestion)."""
        rows = self._db.execute("SELECT original, replacement FROM letter_rejections"
                                " WHERE user_id = ?", (self.user_id,)).fetchall()
        return {(str(r[0]), str(r[1])) for r in rows}

    def _settle(self, letter_id: int, finish: bool) -> Outcome:
        every = self.suggestions(letter_id)
        waiting = sum(1 for s in every if not s.decision)
        accepted = [s for s in every if s.decision == "accepted"]
        rejected = sum(1 for s in every if s.decision == "rejected")
        letter = self.library.get(letter_id)
        if waiting and not finish:
            return Outcome(letter, len(accepted), rejected, waiting)
        if accepted:
            letter = self._made(letter, [s.edit for s in accepted], rejected)
        with self._db.transaction() as tx:
            tx.execute("DELETE FROM letter_edits WHERE user_id = ? AND letter_id = ?",
                       (self.user_id, letter_id))
        return Outcome(letter, len(accepted), rejected, 0)

    def _made(self, letter: Letter, edits: list[Edit], rejected: int) -> Letter:
        read = self._read_version(letter.id)
        if read != letter.version:
            raise InputError(f"Letter {letter.id} has changed since I read it (version "
                             f"{read}; it is at version {letter.version} now), so my "
                             "suggestions no longer fit it.",
                             f"Ask me to read it again: os1 letters check {letter.id}")
        try:
            text = apply_edits(letter.text, edits)
        except ValueError as exc:
            raise InputError(f"Letter {letter.id} no longer holds the words I suggested "
                             f"changing ({exc}).",
                             f"Ask me to read it again: os1 letters check {letter.id}") from exc
        note = f"her suggestions: {len(edits)} accepted, {rejected} not"
        return self.library.revise(letter.id, text, note)

    def _read_version(self, letter_id: int) -> int:
        row = self._db.execute("SELECT MAX(version) FROM letter_edits WHERE user_id = ?"
                               " AND letter_id = ?", (self.user_id, letter_id)).fetchone()
        return int(row[0])


def _chosen(every: list[Suggestion], numbers: list[int], kind: str | None) -> list[Suggestion]:
    if kind is not None and kind not in EDIT_KINDS:
        raise InputError(f"{kind!r} is not a kind of suggestion.",
                         "The kinds: " + ", ".join(EDIT_KINDS) + ".")
    known = {s.number for s in every}
    unknown = [n for n in numbers if n not in known]
    if unknown:
        raise InputError(f"There is no suggestion {unknown[0]} on this letter; they are "
                         f"numbered 1 to {max(known)}.")
    if numbers:
        return [s for s in every if s.number in numbers]
    if kind is not None:
        return [s for s in every if s.edit.kind == kind and not s.decision]
    return [s for s in every if not s.decision]


def _suggestion(row: Row) -> Suggestion:
    edit = Edit(int(row["start_at"]), int(row["end_at"]), str(row["original"]),
                str(row["replacement"]), row["kind"], str(row["reason"]), str(row["source"]))
    return Suggestion(int(row["number"]), edit, str(row["decision"]))
