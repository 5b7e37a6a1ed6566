"""Her long-term memory, one user at a time: what she remembers, how it changed, and what
she was asked to forget.

Memories are not edited in place. A newer fact about the same ``subject`` ("theo/home
city") or a user's correction is a new row that supersedes the old one; recall sees only
active rows, ``history`` shows the whole chain. ``forget`` is the exception, and it is
thorough: every version, derived insight, index entry and embedding goes, the pages are
overwritten (``secure_delete``) and the audit trail keeps only ids and times.

Every statement filters by ``user_id``. Another user's memory and a memory that never
existed raise the same ``MemoryNotFound``, so ids reveal nothing.

Search by vector is ``VectorSearch``'s (vector_search.py): it scales from a person's
thousands of memories to a million, which this module need not know about beyond telling
it of every write and forget. What a memory is lives in records.py, and what a forget
reaches in forgetting.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence

from os1.errors import InputError
from os1.memory import forgetting, progress
from os1.memory.embeddings import Embedder, Vector
from os1.memory.indexed_vectors import ANN_THRESHOLD
from os1.memory.rare_terms import rare_term_scores
from os1.memory.records import (
    COLUMNS,
    M_COLUMNS,
    Memory,
    MemoryDraft,
    MemoryEvent,
    MemoryNotFound,
    memory_from_row,
    record_event,
    validated,
)
from os1.memory.stored_vectors import chunks, embed_passages, encode, marks
from os1.memory.vector_search import VectorSearch
from os1.storage.db import Connection, Database

# BM25 weight of a moment's context (the moment before it) against its content's 1.0:
# on LoCoMo this lifts evidence recall@5/@10 by ~5 points (an answer rarely repeats the
# question's words; the turn before it holds them).
CONTEXT_WEIGHT = 0.5
# How far apart (in ids) a moment and the one before or after it can be: other
# sessions' moments and extracted memories are stored in between.
NEIGHBOUR_REACH = 64
# A time window holding more memories than this is ranked by importance among its latest
# ones only ("in March" holds 28k of 1M memories: ~70 ms of reading, against ~2 ms).
WINDOW_SCAN = 1000
class MemoryStore:
    def __init__(self, db: Database, user_id: str, embedder: Embedder, *,
                 ann_threshold: int = ANN_THRESHOLD) -> None:
        """``ann_threshold``: active memories from which vector search uses an index
        (``ANN_THRESHOLD``; tests pass a small one)."""
        self._db = db
        self.user_id = user_id
        self.embedder = embedder
        self._search = VectorSearch(db, user_id, embedder, ann_threshold)

    # -- writing -------------------------------------------------------------------------

    def add(self, kind: str, content: str, *, subject: str = "", importance: float = 0.5,
            event_at: float | None = None, sources: Sequence[int] = (),
            derived_from: Sequence[int] = (), at: float | None = None) -> Memory:
        """Store one memory. A non-empty ``subject`` (compared case- and space-
        insensitively) supersedes the active memory with the same subject: "I moved to
        Boston" replaces "I live in LA" without erasing that she once knew it."""
        draft = MemoryDraft(kind, content, subject, importance, event_at, sources, derived_from)
        return self.add_many([draft], at=at)[0]

    def add_many(self, drafts: Sequence[MemoryDraft], *, at: float | None = None,
                 processed_up_to: int | None = None,
                 stage: str = "extracted") -> list[Memory]:
        """Store several memories in one transaction, embedded in one batch.

        ``processed_up_to`` marks ``stage`` done up to that id in the same transaction, so
        a crash never stores memories without the mark (and extracts them twice) nor the
        mark without the memories (and loses them)."""
        cleaned = [validated(d) for d in drafts]
        vectors = embed_passages(self.embedder, [d.content for d in cleaned])
        created = time.time() if at is None else at
        ids: list[int] = []
        with self._db.transaction() as tx:
            for draft, vector in zip(cleaned, vectors, strict=True):
                ids.append(self._insert(tx, draft, vector, created))
            if processed_up_to is not None:
                progress.mark(tx, self.user_id, processed_up_to, stage)
        self._search.after_write(list(zip(ids, vectors, strict=True)))
        return [self.get(memory_id) for memory_id in ids]

    def edit(self, memory_id: int, content: str) -> Memory:
        """A corrected version that supersedes ``memory_id`` and keeps its kind, subject,
        importance, time, sources and derivation. Only the current version can be edited:
        correcting an old one ("I lived in LA") must not replace the newer fact."""
        old = self.get(memory_id)
        if old.superseded_by is not None:
            raise InputError(
                f"Memory {memory_id} was replaced by memory {old.superseded_by}; "
                "only the current version can be edited.",
                f"Edit memory {old.superseded_by} instead.",
            )
        draft = validated(MemoryDraft(old.kind, content, old.subject, old.importance,
                                       old.event_at, old.sources, self.sources_of(memory_id),
                                       context=old.context))
        if draft.content == old.content:
            return old
        vector = embed_passages(self.embedder, [draft.content])[0]
        with self._db.transaction() as tx:
            self._check_active(tx, memory_id)
            new_id = self._insert(tx, draft, vector, time.time(), edit_of=memory_id)
            # The next moment's context quoted what was corrected: it quotes the
            # correction now, so the old words no longer find it.
            tx.execute("UPDATE memories SET context = ? WHERE user_id = ? AND context = ?",
                       (draft.content, self.user_id, old.content))
        self._search.after_write([(new_id, vector)])
        return self.get(new_id)

    def forget(self, memory_id: int) -> int:
        """Remove ``memory_id``, every version in its chain and every insight derived from
        any of them (recursively); returns how many memories were removed. Forgotten
        content is overwritten on disk and gone from the FTS index; the audit trail keeps
        only "memory N was forgotten at T"."""
        self.get(memory_id)
        self._db.prepare_forget()
        with self._db.transaction() as tx:
            doomed = forgetting.doomed_by(tx, self.user_id, memory_id)
            forgetting.unquote(tx, self.user_id, doomed)
            removed = forgetting.delete(tx, self.user_id, doomed)
        self._search.after_forget(doomed)
        self._db.scrub_forgotten()
        return removed

    def mark_processed(self, up_to: int, stage: str = "extracted") -> None:
        """``stage`` is done up to id ``up_to`` (never goes back)."""
        with self._db.transaction() as tx:
            progress.mark(tx, self.user_id, up_to, stage)

    def repair_embeddings(self, on_start: Callable[[str, int], Callable[[int], None]]
                          | None = None) -> int:
        """Re-embed every memory whose vector is missing, malformed (wrong length, NaN)
        or made by another model (the embedder was switched); returns how many were
        fixed. Each batch is written as it is done, so a stopped run goes on where it
        was; ``on_start(description, total)`` gives the progress callback."""
        return self._search.repair(on_start)

    def prepare_index(self, on_start: Callable[[str, int], Callable[[int], None]]
                      | None = None) -> bool:
        """Loads, or builds, the vector index now if this store needs one (above
        ``ann_threshold`` memories, or one was saved before), so a big store's first
        recall doesn't wait for it; ``on_start`` as for ``repair_embeddings`` (a build
        reads every vector: ~4 s per 100k memories here). Returns whether it has one."""
        return self._search.prepare_index(on_start)

    # -- reading -------------------------------------------------------------------------

    def get(self, memory_id: int) -> Memory:
        row = self._db.execute(
            f"SELECT {COLUMNS} FROM memories WHERE id = ? AND user_id = ?",
            (memory_id, self.user_id),
        ).fetchone()
        if row is None:
            raise MemoryNotFound(memory_id)
        return memory_from_row(row)

    def get_many(self, memory_ids: Iterable[int]) -> list[Memory]:
        """This user's memories among ``memory_ids``, in id order; unknown ids are skipped."""
        wanted = sorted(set(memory_ids))
        found: list[Memory] = []
        for chunk in chunks(wanted, 500):
            found += [memory_from_row(r) for r in self._db.execute(
                f"SELECT {COLUMNS} FROM memories WHERE +user_id = ? AND id IN"
                f" ({marks(chunk)}) ORDER BY id", (self.user_id, *chunk))]
        return found

    def active(self, limit: int | None = None) -> list[Memory]:
        """What she currently holds true, newest first."""
        sql = (f"SELECT {COLUMNS} FROM memories WHERE user_id = ? AND superseded_by IS NULL"
               " ORDER BY created_at DESC, id DESC")
        rows = self._db.execute(*((sql, (self.user_id,)) if limit is None else
                                  (sql + " LIMIT ?", (self.user_id, limit)))).fetchall()
        return [memory_from_row(r) for r in rows]

    def active_of(self, kinds: Sequence[str], limit: int) -> list[Memory]:
        """The newest ``limit`` active memories of these ``kinds``: what she concluded
        ("fact", "event"...), without the thousands of moments beside it."""
        if not kinds or limit <= 0:
            return []
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM memories WHERE user_id = ? AND superseded_by IS NULL"
            f" AND kind IN ({marks(kinds)}) ORDER BY created_at DESC, id DESC LIMIT ?",
            (self.user_id, *kinds, limit)).fetchall()
        return [memory_from_row(r) for r in rows]

    def history(self, memory_id: int) -> list[Memory]:
        """Every version in the supersession chain ``memory_id`` belongs to, oldest first."""
        self.get(memory_id)
        chain = forgetting.versions(self._db, self.user_id, {memory_id})
        return sorted(self.get_many(chain), key=lambda m: (m.created_at, m.id))

    def sources_of(self, memory_id: int) -> list[int]:
        """The memories an insight was derived from (empty for first-hand memories)."""
        self.get(memory_id)
        rows = self._db.execute(
            "SELECT source_id FROM memory_links WHERE user_id = ? AND memory_id = ?"
            " ORDER BY source_id", (self.user_id, memory_id)).fetchall()
        return [int(r[0]) for r in rows]

    def from_messages(self, message_ids: Sequence[int]) -> list[Memory]:
        """Memories (active or not) that cite any of these conversation messages."""
        if not message_ids:
            return []
        rows = self._db.execute(
            f"SELECT DISTINCT {M_COLUMNS} FROM memories AS m,"
            f" {self._db.json_integers('m.source_message_ids', 'j')}"
            f" WHERE m.user_id = ? AND j.value IN ({marks(message_ids)}) ORDER BY m.id",
            (self.user_id, *message_ids)).fetchall()
        return [memory_from_row(r) for r in rows]

    def previous_moment(self, message_id: int) -> str:
        """The active moment of the latest earlier message in ``message_id``'s session
        (this user's session and messages only), '' if there is none: a new moment's
        context."""
        row = self._db.execute(
            "SELECT m.content FROM memories AS m,"
            f" {self._db.json_integers('m.source_message_ids', 'j')}"
            " JOIN messages AS msg ON msg.id = j.value"
            " WHERE m.user_id = ? AND m.kind = 'moment' AND m.superseded_by IS NULL"
            " AND msg.user_id = ? AND msg.id < ? AND msg.session_id ="
            " (SELECT session_id FROM messages WHERE id = ? AND user_id = ?)"
            " ORDER BY msg.id DESC, m.id DESC LIMIT 1",
            (self.user_id, self.user_id, message_id, message_id, self.user_id)).fetchone()
        return "" if row is None else str(row[0])

    def count(self) -> int:
        """How many memories are active (superseded versions are history, not memories)."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM memories WHERE user_id = ? AND superseded_by IS NULL",
            (self.user_id,)).fetchone()
        return int(row[0])

    def processed_up_to(self, stage: str = "extracted") -> int:
        """The last id ``stage`` has done (0: none): a message id for "moments" and
        "extracted", a memory id for "reflected"."""
        return progress.done_up_to(self._db, self.user_id, stage)

    def events(self, memory_id: int | None = None) -> list[MemoryEvent]:
        """The audit trail, oldest first (for one memory id, or all)."""
        sql = "SELECT memory_id, action, at, detail FROM memory_events WHERE user_id = ?"
        args: tuple[object, ...] = (self.user_id,)
        if memory_id is not None:
            sql, args = sql + " AND memory_id = ?", (*args, memory_id)
        rows = self._db.execute(sql + " ORDER BY id", args).fetchall()
        return [MemoryEvent(int(r[0]), str(r[1]), float(r[2]), r[3]) for r in rows]

    # -- for retrieval -------------------------------------------------------------------

    def text_search(self, terms: Sequence[str], limit: int) -> list[tuple[Memory, float]]:
        """Active memories holding any of ``terms`` (words, never query syntax) in their
        content or context, with their text-search score (higher is better: BM25 on
        SQLite, ts_rank on PostgreSQL), best first."""
        if not terms or limit <= 0:
            return []
        if self._search.large():  # its most common words left out (rare_terms.py)
            best = rare_term_scores(self._db, self.user_id, terms, limit, CONTEXT_WEIGHT)
            found = {m.id: m for m in self.get_many(i for i, _ in best)}
            return [(found[i], score) for i, score in best if i in found]
        sql, params = self._db.text_search(M_COLUMNS, terms, CONTEXT_WEIGHT)
        rows = self._db.execute(
            sql + " AND m.user_id = ? AND m.superseded_by IS NULL ORDER BY rank DESC, m.id"
            " LIMIT ?", (*params, self.user_id, limit)).fetchall()
        return [(memory_from_row(r), float(r["rank"])) for r in rows]

    def adjacent_moments(self, moments: Sequence[Memory],
                         reach: int = NEIGHBOUR_REACH) -> dict[int, list[Memory]]:
        """For each moment, the active moments said just before and just after it in its
        session (by the context chain: the one before is the moment its context quotes,
        the one after quotes it), looked for among ids within ``reach`` of it."""
        found: dict[int, list[Memory]] = {}
        for moment in [m for m in moments if m.kind == "moment"]:
            rows = self._db.execute(  # only the rows that can be the one before or after
                f"SELECT {COLUMNS} FROM memories WHERE id BETWEEN ? AND ? AND +user_id = ?"
                " AND kind = 'moment' AND superseded_by IS NULL AND id != ?"
                " AND (content = ? OR context = ?) ORDER BY id",
                (moment.id - reach, moment.id + reach, self.user_id, moment.id,
                 moment.context, moment.content)).fetchall()
            near = [memory_from_row(r) for r in rows]
            before = [m for m in near if m.id < moment.id and moment.context
                      and m.content == moment.context]
            after = [m for m in near if m.id > moment.id and m.context == moment.content]
            found[moment.id] = before[-1:] + after[:1]
        return found

    def within(self, start: float, end: float, limit: int) -> list[Memory]:
        """Active memories that happened (or, undated, were learned) in ``[start, end)``,
        most important first (among the latest ``WINDOW_SCAN``; each row read once)."""
        rows = self._db.execute(
            f"SELECT {COLUMNS} FROM (SELECT {COLUMNS} FROM memories WHERE user_id = ?"
            " AND superseded_by IS NULL AND COALESCE(event_at, created_at) >= ?"
            " AND COALESCE(event_at, created_at) < ?"
            " ORDER BY COALESCE(event_at, created_at) DESC LIMIT ?) AS latest"
            " ORDER BY importance DESC, id DESC LIMIT ?",
            (self.user_id, start, end, WINDOW_SCAN, limit)).fetchall()
        return [memory_from_row(r) for r in rows]

    def nearest(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """The ``k`` active memories most similar to ``query`` (a unit vector), with their
        exact cosine, best first (newer first among equals). Brute force over every vector
        in a small store; in a big one, an index's best guesses re-scored exactly."""
        return self._search.nearest(query, k)

    def similarities(self, query: Vector, memory_ids: Iterable[int]) -> dict[int, float]:
        """The exact cosine of ``query`` to each of these memories (this user's) that has
        a usable vector; one without is left out."""
        return self._search.similarities(query, memory_ids)

    def active_vectors(self) -> tuple[list[int], Vector]:
        """Ids of the active memories and their embeddings as one ``(n, dim)`` matrix:
        every vector in RAM, so only for a store of a person's size (``nearest`` is the
        search that suits any size). A missing or corrupted vector (wrong length, NaN,
        another model) is re-embedded here and written back, so one damaged row costs a
        little time instead of breaking recall."""
        return self._search.active_vectors()

    # -- internals -----------------------------------------------------------------------

    def _insert(self, tx: Connection, draft: MemoryDraft, vector: Vector,
                created: float, edit_of: int | None = None) -> int:
        self._check_owned(tx, draft.derived_from)
        new_id = int(tx.execute(
            "INSERT INTO memories(user_id, kind, content, subject, importance, created_at,"
            " event_at, source_message_ids, embedding, embedding_model, context)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            (self.user_id, draft.kind, draft.content, draft.subject, draft.importance,
             created, draft.event_at, json.dumps(list(draft.sources)), encode(vector),
             self.embedder.name, draft.context)).fetchone()[0])
        tx.executemany(
            "INSERT INTO memory_links(user_id, memory_id, source_id) VALUES (?,?,?)"
            " ON CONFLICT DO NOTHING",
            [(self.user_id, new_id, source) for source in draft.derived_from])
        record_event(tx, self.user_id, new_id, "created", created,
                    {"edit_of": edit_of} if edit_of is not None else None)
        replaced = [edit_of] if edit_of is not None else self._same_subject(tx, draft, new_id)
        if draft.replaces is not None and draft.replaces not in replaced \
                and self._is_active(tx, draft.replaces):
            replaced.append(draft.replaces)
        for old_id in replaced:
            tx.execute(
                "UPDATE memories SET superseded_by = ?, superseded_at = ?"
                " WHERE id = ? AND user_id = ?", (new_id, created, old_id, self.user_id))
            action = "edited" if edit_of is not None else "superseded"
            record_event(tx, self.user_id, old_id, action, created, {"by": new_id})
        return new_id

    def _same_subject(self, tx: Connection, draft: MemoryDraft,
                      new_id: int) -> list[int]:
        if not draft.subject:
            return []
        rows = tx.execute(
            "SELECT id FROM memories WHERE user_id = ? AND subject = ?"
            " AND superseded_by IS NULL AND id != ?", (self.user_id, draft.subject, new_id))
        return [int(r[0]) for r in rows]

    def _is_active(self, tx: Connection, memory_id: int) -> bool:
        return tx.execute(
            "SELECT 1 FROM memories WHERE id = ? AND user_id = ? AND superseded_by IS NULL",
            (memory_id, self.user_id)).fetchone() is not None

    def _check_owned(self, tx: Connection, memory_ids: Sequence[int]) -> None:
        for memory_id in memory_ids:
            if tx.execute("SELECT 1 FROM memories WHERE id = ? AND user_id = ?",
                          (memory_id, self.user_id)).fetchone() is None:
                raise MemoryNotFound(memory_id)

    def _check_active(self, tx: Connection, memory_id: int) -> None:
        """Re-checked inside the write transaction: another process may have superseded
        or forgotten it since ``get``."""
        row = tx.execute("SELECT superseded_by FROM memories WHERE id = ? AND user_id = ?",
                         (memory_id, self.user_id)).fetchone()
        if row is None:
            raise MemoryNotFound(memory_id)
        if row[0] is not None:
            raise InputError(f"Memory {memory_id} was just replaced by memory {row[0]}.",
                             f"Edit memory {row[0]} instead.")
