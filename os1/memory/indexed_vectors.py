"""A big memory's vector index (``vector_index.py``), kept in step with the database.

Why it is kept and not rebuilt: building it reads every vector (~4 s per 100k memories),
so it is saved beside the database file, at ``<db>.vectors/<sha256(user)>.index``, and
what changed since it was saved is replayed from ``memory_events`` (every write leaves
one, in the same transaction). That also covers another process's writes (the background
worker, a second conversation): what counts is each named memory's state now, so the
order of events and repeats don't matter. A file that can't be trusted (unreadable,
another embedder's, ahead of the database) is rebuilt; one whose count disagrees with
the database is reconciled id by id. A forget rewrites the file at once.

One copy per user and database file in a process, shared by every store on it (the
conversation's and the worker's), so a big memory is held once.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import weakref
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from os1.errors import StorageError
from os1.memory.stored_vectors import StoredVectors, chunks
from os1.memory.vector_index import TRAIN_SAMPLE, IndexUnreadable, VectorIndex, index_lock
from os1.storage.db import Database
from os1.storage.private_files import shred

log = logging.getLogger(__name__)

# Above this many active memories, vector search goes through an approximate index
# (vector_index.py) kept beside the database, instead of a matrix product over every
# vector held in RAM. Below it brute force is exact and quick (9 ms at 100k memories,
# BENCHMARKS 3c) and a person's memories, thousands after years, never leave it; at 50k
# its vectors would hold ~175 MB of RAM, and building the index takes a few seconds.
ANN_THRESHOLD = 50_000
# Changes (memory_events) after which the index file is saved again; a restart replays
# the rest from memory_events. A forget saves at once.
SAVE_AFTER_CHANGES = 1000
# Vectors read from the database at a time while building or catching up.
VECTOR_CHUNK = 20_000

OnStart = Callable[[str, int], Callable[[int], None]]


@dataclass
class _Keeper:
    """One user's index in this process. ``mark`` is the last ``memory_events`` id it
    reflects; ``unsaved`` counts the memories changed since the file was written."""

    path: Path | None
    index: VectorIndex | None = None
    mark: int = 0
    unsaved: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)


_KEEPERS: weakref.WeakValueDictionary[tuple[str, str, str], _Keeper] = \
    weakref.WeakValueDictionary()
_KEEPERS_LOCK = threading.Lock()


class IndexedVectors:
    """One user's index over ``stored``: opened once the store is big (``threshold``
    active memories, or a file saved before), then current at every use."""

    def __init__(self, stored: StoredVectors, threshold: int) -> None:
        self._stored = stored
        self._threshold = threshold
        self._keeper = _keeper_for(stored.db, stored.user_id, stored.embedder.name)
        self._small_at: int | None = None  # the event mark at which it was last small

    @property
    def held(self) -> bool:
        """Whether this process holds the index (checked without the lock)."""
        return self._keeper.index is not None

    def large(self) -> bool:
        """Whether this store searches through the index: it holds one, one was saved
        (by an earlier run or another process), or it has grown past the threshold."""
        return self._large(self._event_mark())

    def prepare(self, on_start: OnStart | None = None) -> bool:
        """Loads, or builds, the index now if the store needs one; ``on_start`` gives a
        build's progress callback. Returns whether it has one."""
        keeper = self._keeper
        with keeper.lock:
            if keeper.index is None:
                if not self._large(self._event_mark()):
                    return False
                self._open(on_start)
            return True

    def current(self) -> VectorIndex | None:
        """The index, up to date, if the store needs one; None while brute force serves."""
        keeper = self._keeper
        with keeper.lock:
            mark = self._event_mark()
            if keeper.index is None:
                if not self._large(mark):
                    return None
                self._open(None)
            elif mark < keeper.mark:  # the database went back (restored): trust nothing
                self._reconcile()
                keeper.mark = mark
            else:
                self._catch_up(mark)
            return keeper.index

    def catch_up(self) -> bool:
        """After a write: a held index replays it (and any other process's) at once, off
        the recall path. False if none is held."""
        if self._keeper.index is None:
            return False
        with self._keeper.lock:
            self._catch_up(self._event_mark())
        return True

    def put(self, memory_ids: Sequence[int]) -> bool:
        """Re-embedded vectors (no memory event says so) into a held index if they are
        active. False if none is held."""
        index = self._keeper.index
        if index is None:
            return False
        with self._keeper.lock:
            self._put(index, memory_ids)
        return True

    def forget(self, doomed: Collection[int]) -> None:
        """Forgotten vectors out of the index for good: the file is rewritten at once
        and the old one zeroed (a store that holds no index still fixes a saved one)."""
        keeper = self._keeper
        with keeper.lock:
            if keeper.index is None:
                if keeper.path is None or not keeper.path.exists():
                    return
                self._open(None)
            assert keeper.index is not None
            keeper.index.remove(list(doomed))
            self._save(forgetting=True)

    # -- internals -----------------------------------------------------------------------

    def _large(self, mark: int) -> bool:
        """``large``, counted again only after a change (``mark``: the event mark now)."""
        keeper = self._keeper
        if keeper.index is not None:
            return True
        if mark == self._small_at:
            return False
        if (keeper.path is not None and keeper.path.exists()) \
                or self._stored.active_count() >= self._threshold:
            return True
        self._small_at = mark
        return False

    def _event_mark(self) -> int:
        """The newest memory event, anyone's: it moves whenever any memory changes, and
        costs nothing to read (the table's primary key)."""
        row = self._stored.db.execute(
            "SELECT COALESCE(MAX(id), 0) FROM memory_events").fetchone()
        return int(row[0])

    def _open(self, on_start: OnStart | None) -> None:
        """The saved index, or one built from the database when there is none to trust,
        brought up to date and checked against the count of active memories."""
        keeper = self._keeper
        loaded = self._load()
        if loaded is None:
            keeper.index, keeper.mark = self._build(on_start)
            keeper.unsaved = SAVE_AFTER_CHANGES
        else:
            keeper.index, keeper.mark = loaded
        self._catch_up(self._event_mark())
        if len(keeper.index) != self._stored.active_count():
            self._reconcile()
        if keeper.unsaved >= SAVE_AFTER_CHANGES:
            self._save()

    def _load(self) -> tuple[VectorIndex, int] | None:
        """The saved index and its event mark; None if missing, unreadable, another
        user's or embedder's, or ahead of the database."""
        path, stored = self._keeper.path, self._stored
        if path is None or not path.exists():
            return None
        try:
            with index_lock(path, exclusive=False):
                index, meta = VectorIndex.load(path)
        except (IndexUnreadable, OSError) as exc:
            log.warning("The memory index can't be read; rebuilding it (%s)", exc)
            return None
        mark = meta.get("events")
        if meta.get("user") != stored.user_id or meta.get("embedder") != stored.embedder.name \
                or meta.get("dim") != stored.embedder.dim or not isinstance(mark, int) \
                or mark > self._event_mark():
            log.warning("The memory index at %s is another's; rebuilding it", path)
            return None
        return index, mark

    def _build(self, on_start: OnStart | None) -> tuple[VectorIndex, int]:
        """Every active vector, read a chunk at a time (never all in RAM at once); the
        quantisers learn a random sample first. Returns it with the event mark it holds."""
        mark = self._event_mark()
        ids = self._stored.active_ids()
        progress = on_start(f"Indexing {len(ids):,} memories for recall", len(ids)) \
            if on_start is not None and ids else None
        rng = np.random.default_rng(0)
        sample_ids = ids if len(ids) <= TRAIN_SAMPLE else \
            [int(i) for i in rng.choice(ids, TRAIN_SAMPLE, replace=False)]
        sample = self._stored.read(sample_ids, repair=True)
        index = VectorIndex.trained(np.stack(list(sample.values())) if sample
                                    else np.zeros((0, self._stored.embedder.dim), np.float32))
        for chunk in chunks(ids, VECTOR_CHUNK):
            self._put(index, chunk)
            if progress is not None:
                progress(len(chunk))
        return index, mark

    def _catch_up(self, mark: int) -> None:
        """``_replay`` to ``mark``, saving the file once enough has changed."""
        self._replay(mark)
        if self._keeper.unsaved >= SAVE_AFTER_CHANGES:
            self._save()

    def _replay(self, mark: int) -> None:
        """Applies the memory events after the index's mark: each memory they name is
        taken out and, if it is still active, put back with its stored vector."""
        keeper = self._keeper
        if keeper.index is None or mark <= keeper.mark:
            return
        touched = [int(r[0]) for r in self._stored.db.execute(
            "SELECT DISTINCT memory_id FROM memory_events WHERE id > ? AND id <= ?"
            " AND user_id = ?", (keeper.mark, mark, self._stored.user_id))]
        for chunk in chunks(touched, VECTOR_CHUNK):
            self._put(keeper.index, chunk)
        keeper.mark = mark
        keeper.unsaved += len(touched)

    def _put(self, index: VectorIndex, memory_ids: Sequence[int]) -> None:
        """These memories into the index as they are now: out if no longer active."""
        vectors = self._stored.read(memory_ids, repair=True, active_only=True)
        index.remove([i for i in memory_ids if i not in vectors])
        if vectors:
            index.add(list(vectors), np.stack(list(vectors.values())))

    def _reconcile(self) -> None:
        """The index made to hold exactly the active memories, by comparing ids (its
        count differed: a file saved against a database that has changed since)."""
        index = self._keeper.index
        if index is None:
            return
        active = np.asarray(self._stored.active_ids(), dtype=np.int64)
        held = index.ids()
        index.remove([int(i) for i in np.setdiff1d(held, active)])
        for chunk in chunks([int(i) for i in np.setdiff1d(active, held)], VECTOR_CHUNK):
            self._put(index, chunk)
        self._keeper.unsaved = SAVE_AFTER_CHANGES

    def _save(self, *, forgetting: bool = False) -> None:
        """Saved under the file's lock, after catching up with every event committed
        before it (another process's forget included, whose scrubbed file this replaces);
        a failure only costs a replay at the next start, unless it would leave a
        forgotten vector in the file."""
        keeper, stored = self._keeper, self._stored
        if keeper.path is None or keeper.index is None:
            keeper.unsaved = 0
            return
        meta = {"user": stored.user_id, "embedder": stored.embedder.name,
                "dim": stored.embedder.dim}
        try:
            with index_lock(keeper.path, exclusive=True):
                self._replay(self._event_mark())
                keeper.index.save(keeper.path, {**meta, "events": keeper.mark})
        except OSError as exc:
            if forgetting:
                raise StorageError(
                    f"Forgotten, but the memory index at {keeper.path} couldn't be"
                    f" rewritten without it: {exc}.",
                    f"Delete {keeper.path} (os1 rebuilds it from the database).") from exc
            log.warning("The memory index couldn't be saved (%s)", exc)
            return
        keeper.unsaved = 0


def _keeper_for(db: Database, user_id: str, embedder_name: str) -> _Keeper:
    """The keeper shared by every store of this user on this database file; a store's
    own where there is no file to keep the index beside (PostgreSQL, in memory): there
    each process builds it when it is first needed."""
    path = index_path(db, user_id)
    if path is None:
        return _Keeper(None)
    with _KEEPERS_LOCK:
        key = (str(path), user_id, embedder_name)
        keeper = _KEEPERS.get(key)
        if keeper is None:
            keeper = _KEEPERS[key] = _Keeper(path)
        return keeper


def index_path(db: Database, user_id: str) -> Path | None:
    """``<database file>.vectors/<hash of the user id>.index``: any text is a user id,
    and a file name shouldn't say whose memories it holds. None where there is no file
    to keep it beside."""
    if db.backend != "sqlite" or db.location in ("", ":memory:") \
            or db.location.startswith("file:"):
        return None
    base = Path(db.location).resolve()
    digest = hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:24]
    return base.with_name(base.name + ".vectors") / f"{digest}.index"


def drop_index(db: Database, user_id: str) -> list[Path]:
    """Forget-me: the user's saved index shredded (zeroed, then removed, as a forget's
    old file is), with its partial and lock files, and this process's copy let go, so
    nothing saves it again. Returns the files removed."""
    path = index_path(db, user_id)
    if path is None:
        return []
    with _KEEPERS_LOCK:
        keepers = [k for key, k in _KEEPERS.items() if key[0] == str(path)]
    for keeper in keepers:
        with keeper.lock:
            keeper.index, keeper.mark, keeper.unsaved = None, 0, 0
    removed: list[Path] = []
    if path.parent.is_dir():
        with index_lock(path, exclusive=True):
            removed += [p for p in (path, path.with_name(path.name + ".partial")) if shred(p)]
        lock = path.with_name(path.name + ".lock")
        lock.unlink(missing_ok=True)
    return removed
