"""Which of a user's active memories are nearest a vector, with their exact cosine.

Why two ways: a person's memory (thousands of memories after years) is searched by brute
force, a matrix product over every active vector cached in RAM, which is exact and quick
(9 ms at 100k memories, BENCHMARKS 3c). Past ``ANN_THRESHOLD`` memories that cache would
cost 3.5 MB per 1,000 and each product ~100 ms at a million, so a big store holds no float
vector: an approximate index (``indexed_vectors.py``) proposes candidates, and the best
few are re-scored exactly from the vectors stored in the database. Either way the cosine
reported is exact.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable

import numpy as np
import numpy.typing as npt

from os1.memory.embeddings import Embedder, Vector
from os1.memory.indexed_vectors import IndexedVectors, OnStart
from os1.memory.stored_vectors import EMBED_BATCH, StoredVectors
from os1.storage.db import Database

# How many of the index's best guesses are re-scored exactly (from the float vectors in
# the database) for each one asked for, and at least: its 8-bit scores rank the true top
# 10 among its top 20 (recall@10 1.000 on 300k random vectors).
RESCORE_FACTOR = 2
MIN_RESCORE = 40


class VectorSearch:
    """One user's vector search: the brute-force cache of a small store, the index of a
    big one, and keeping both in step with the store's writes."""

    def __init__(self, db: Database, user_id: str, embedder: Embedder, threshold: int) -> None:
        self._stored = StoredVectors(db, user_id, embedder)
        self._indexed = IndexedVectors(self._stored, threshold)
        # Cached by id (a row's content never changes); ``_stacked`` is the matrix of
        # the active ones, valid while the active set's fingerprint is ``_stacked_key``.
        self._vectors: dict[int, Vector] = {}
        self._stacked: tuple[list[int], Vector] = ([], np.zeros((0, embedder.dim), np.float32))
        self._stacked_key: tuple[int, int, int] | None = None
        self._lock = threading.Lock()

    # -- searching -----------------------------------------------------------------------

    def nearest(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """The ``k`` active memories most similar to ``query`` (a unit vector), with their
        exact cosine, best first (newer first among equals)."""
        if k <= 0:
            return []
        index = self._indexed.current()
        if index is None:
            held, matrix = self.active_vectors()
            return _best(np.asarray(held, dtype=np.int64), matrix @ query, k)
        self._drop_cache()
        guesses = [i for i, _ in index.search(query, max(RESCORE_FACTOR * k, MIN_RESCORE))]
        vectors = self._stored.read(guesses, repair=False, active_only=True)
        if not vectors:
            return []
        ids = np.fromiter(vectors, dtype=np.int64, count=len(vectors))
        return _best(ids, np.stack(list(vectors.values())) @ query, k)

    def similarities(self, query: Vector, memory_ids: Iterable[int]) -> dict[int, float]:
        """The exact cosine of ``query`` to each of these memories that has a usable
        vector: cached ones from the cache, the rest read for the purpose."""
        wanted = set(memory_ids)
        with self._lock:
            vectors = {i: self._vectors[i] for i in wanted if i in self._vectors}
        vectors.update(self._stored.read(wanted - vectors.keys(), repair=False))
        if not vectors:
            return {}
        scores = np.nan_to_num(np.stack(list(vectors.values())) @ query, nan=0.0)
        return {memory_id: float(score)
                for memory_id, score in zip(vectors, scores, strict=True)}

    def active_vectors(self) -> tuple[list[int], Vector]:
        """Ids of the active memories (ascending) and their vectors as one ``(n, dim)``
        matrix. A missing or damaged vector is re-embedded and written back here, so one
        damaged row costs a little time instead of breaking recall."""
        key = self._stored.active_fingerprint()
        with self._lock:
            if key == self._stacked_key:
                return self._stacked
        ids = self._stored.active_ids()
        with self._lock:
            missing = [i for i in ids if i not in self._vectors]
        self._cache(self._stored.read(missing, repair=True).items())
        with self._lock:
            present = [i for i in ids if i in self._vectors]
            rows = [self._vectors[i] for i in present]
            matrix = np.stack(rows) if rows else \
                np.zeros((0, self._stored.embedder.dim), np.float32)
            # The cache then holds views into the matrix: one copy of each vector, not two.
            self._vectors.update(zip(present, matrix, strict=True))
            if present == ids:
                self._stacked, self._stacked_key = (present, matrix), key
        return present, matrix

    def large(self) -> bool:
        """Whether the store is big enough to be searched through the index."""
        return self._indexed.large()

    def prepare_index(self, on_start: OnStart | None = None) -> bool:
        """Loads, or builds, a big store's index now; whether it has one."""
        if not self._indexed.prepare(on_start):
            return False
        self._drop_cache()  # a big store holds no float vectors
        return True

    # -- keeping in step -----------------------------------------------------------------

    def after_write(self, items: list[tuple[int, Vector]]) -> None:
        """New vectors join the brute-force cache; a held index instead catches up with
        the write (and any other process's) at once, off the recall path."""
        if not self._indexed.catch_up():
            self._cache(items)

    def after_forget(self, doomed: Collection[int]) -> None:
        """Forgotten vectors out of the cache and, for good, out of the index."""
        with self._lock:
            for gone in doomed:
                self._vectors.pop(gone, None)
            self._stacked, self._stacked_key = ([], self._stacked[1][:0]), None
        self._indexed.forget(doomed)
        if self._indexed.held:
            self._drop_cache()

    def repair(self, on_start: OnStart | None = None) -> int:
        """Re-embeds every memory whose vector can't be trusted, a batch at a time (each
        written as it is done, so a stopped run goes on where it was); how many."""
        bad = self._stored.damaged()
        embedder = self._stored.embedder
        progress = on_start(f"Re-embedding {len(bad):,} memories with {embedder.name}",
                            len(bad)) if bad and on_start else None
        for start in range(0, len(bad), EMBED_BATCH):
            batch = bad[start:start + EMBED_BATCH]
            fixed = self._stored.reembed(batch)
            # No memory event says so: into the cache, or the index if they are active.
            if not self._indexed.put([i for i, _ in fixed]):
                self._cache(fixed)
            if progress is not None:
                progress(len(batch))
        return len(bad)

    def _cache(self, items: Iterable[tuple[int, Vector]]) -> None:
        with self._lock:
            for memory_id, vector in items:
                self._vectors[memory_id] = vector
            self._stacked, self._stacked_key = ([], self._stacked[1][:0]), None

    def _drop_cache(self) -> None:
        with self._lock:
            if self._vectors or self._stacked_key is not None:
                self._vectors.clear()
                self._stacked, self._stacked_key = ([], self._stacked[1][:0]), None


def _best(ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float32],
          k: int) -> list[tuple[int, float]]:
    """The ``k`` best (id, score), best first. Everything tied with the k-th best is
    considered, so among equal scores the newest (highest id) wins."""
    scores = np.nan_to_num(scores, nan=0.0)
    candidates = np.arange(len(ids))
    if k < len(ids):
        cutoff = np.partition(scores, -k)[-k]
        candidates = np.flatnonzero(scores >= cutoff)
    order = np.lexsort((-ids[candidates], -scores[candidates]))[:k]
    return [(int(ids[candidates[i]]), float(scores[candidates[i]])) for i in order]
