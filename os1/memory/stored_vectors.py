"""The embedding stored beside each memory (``memories.embedding``), read back by id.

Why one place: brute-force search, the vector index and ``repair_embeddings`` all read
these vectors, and all must treat a damaged one (wrong length, NaN, another model's) the
same way: never as a vector; at worst it costs a re-embedding, written back so it is
paid once. Which memories are active is asked here too, as each of them needs it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence, Sized

import numpy as np

from os1.errors import ModelError
from os1.memory.embeddings import Embedder, Vector
from os1.storage.db import Database, Row

EMBED_BATCH = 64
# Ids per ``IN (...)`` list: well under SQLite's limit on bound parameters.
ID_CHUNK = 500
# Rows read at a time when every memory's vector is checked.
SCAN_CHUNK = 20_000


class StoredVectors:
    """One user's stored vectors, as ``embedder`` makes them."""

    def __init__(self, db: Database, user_id: str, embedder: Embedder) -> None:
        self.db = db
        self.user_id = user_id
        self.embedder = embedder

    def read(self, memory_ids: Collection[int], *, repair: bool,
             active_only: bool = False) -> dict[int, Vector]:
        """The stored vectors of these memories (this user's; ``active_only``: active
        ones). A missing or damaged one is re-embedded and written back if ``repair``,
        else left out."""
        found: dict[int, Vector] = {}
        bad: list[tuple[int, str]] = []
        active = " AND superseded_by IS NULL" if active_only else ""
        for chunk in chunks(sorted(memory_ids), ID_CHUNK):
            rows = self.db.execute(
                f"SELECT id, content, embedding, embedding_model FROM memories"
                f" WHERE +user_id = ? AND id IN ({marks(chunk)}){active}",
                (self.user_id, *chunk)).fetchall()
            bad += self._decode_rows(rows, found)
        if repair:
            for start in range(0, len(bad), EMBED_BATCH):
                found.update(self.reembed(bad[start:start + EMBED_BATCH]))
        return found

    def damaged(self) -> list[tuple[int, str]]:
        """(id, content) of every memory of this user whose vector can't be trusted
        (missing, malformed, or made by another model: the embedder was switched). Read
        ``SCAN_CHUNK`` rows at a time: a million memories' vectors are 1.5 GB."""
        bad: list[tuple[int, str]] = []
        after = 0
        while rows := self.db.execute(
                "SELECT id, content, embedding, embedding_model FROM memories"
                " WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?",
                (self.user_id, after, SCAN_CHUNK)).fetchall():
            bad += self._decode_rows(rows, {})
            after = int(rows[-1]["id"])
        return bad

    def reembed(self, rows: Sequence[tuple[int, str]]) -> list[tuple[int, Vector]]:
        """Embeds each (id, content) again and writes the vector back, in one transaction."""
        vectors = embed_passages(self.embedder, [content for _, content in rows])
        with self.db.transaction() as tx:
            tx.executemany(
                "UPDATE memories SET embedding = ?, embedding_model = ?"
                " WHERE id = ? AND user_id = ?",
                [(encode(v), self.embedder.name, memory_id, self.user_id)
                 for (memory_id, _), v in zip(rows, vectors, strict=True)])
        return [(memory_id, v) for (memory_id, _), v in zip(rows, vectors, strict=True)]

    def active_ids(self) -> list[int]:
        """The active memories' ids, ascending."""
        return [int(r[0]) for r in self.db.execute(
            "SELECT id FROM memories WHERE user_id = ? AND superseded_by IS NULL ORDER BY id",
            (self.user_id,))]

    def active_count(self) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) FROM memories WHERE user_id = ? AND superseded_by IS NULL",
            (self.user_id,)).fetchone()
        return int(row[0])

    def active_fingerprint(self) -> tuple[int, int, int]:
        """Changes whenever the set of active ids does (an index-only scan: ~20x cheaper
        than reading the ids into Python at a million memories)."""
        row = self.db.execute(
            "SELECT COUNT(*), COALESCE(MAX(id), 0), COALESCE(SUM(id), 0) FROM memories"
            " WHERE user_id = ? AND superseded_by IS NULL", (self.user_id,)).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    def _decode_rows(self, rows: Sequence[Row], into: dict[int, Vector]) -> list[tuple[int, str]]:
        """The stored vectors of these rows that can be trusted go ``into`` the dict by
        id; (id, content) of the others is returned. One norm computation for all rows:
        a million are read to build an index."""
        dim, name = self.embedder.dim, self.embedder.name
        fits = [r for r in rows if r["embedding_model"] == name
                and isinstance(r["embedding"], bytes) and len(r["embedding"]) == dim * 4]
        matrix = np.frombuffer(b"".join(r["embedding"] for r in fits), dtype="<f4") \
            .reshape(-1, dim).astype(np.float32)
        norms = np.linalg.norm(matrix, axis=1)
        # Unit length, or zero (a text with nothing to embed); NaN and garbage are neither.
        trusted = np.isfinite(norms) & ((norms == 0.0) | (np.abs(norms - 1.0) <= 1e-3))
        kept: set[int] = set()
        for row, vector, ok in zip(fits, matrix, trusted, strict=True):
            if ok:
                into[int(row["id"])] = vector
                kept.add(int(row["id"]))
        return [(int(r["id"]), str(r["content"])) for r in rows if int(r["id"]) not in kept]


def embed_passages(embedder: Embedder, texts: Sequence[str]) -> Vector:
    """``embedder.embed_passages``, refusing vectors of the wrong shape: one stored
    wrong would be taken for damage, and re-embedded, at every read."""
    vectors = embedder.embed_passages(texts)
    if vectors.shape != (len(texts), embedder.dim):
        raise ModelError(f"The embedding model {embedder.name} returned vectors of"
                         f" shape {vectors.shape}, not ({len(texts)}, {embedder.dim}).")
    return vectors


def encode(vector: Vector) -> bytes:
    """The bytes stored in ``memories.embedding``: little-endian float32."""
    return np.asarray(vector, dtype="<f4").tobytes()


def marks(items: Sized) -> str:
    """One ``?`` per item, for an ``IN (...)`` list."""
    return ",".join("?" * len(items))


def chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
