"""Nearest neighbours among many memories, without holding every float vector in Python.

Why: at a million memories her exact search held 3.5 MB of RAM per 1,000 memories and its
matrix product took 84-127 ms a query (BENCHMARKS 3c). This index keeps two compressed
copies of each vector and no float one: a 4-bit product-quantised code (2 dimensions per
4 bits, 96 bytes at 384 dimensions) scanned with faiss's SIMD "fast scan", which finds a
shortlist of candidates (``SHORTLIST``, more in a bigger index), and an 8-bit
scalar-quantised code (384 bytes) that re-scores the shortlist almost exactly. The caller
re-scores the best few exactly, against the float vectors stored in the database.

Why not an inverted file (IVF) or a graph (HNSW): the benchmark's vectors are random
(BENCHMARKS 3c), the worst case for both, with no clusters to skip. On 100k random 384-d
vectors IVF-SQ8 reached recall@10 0.81 only when it read half its lists, at 4.2 ms a
query; the fast scan and re-scoring reached 1.000 in 0.6 ms (exact search: ~20 ms, same
busy machine). And forgetting must take a vector out for good: faiss's HNSW indexes
can't remove one at all, and usearch/hnswlib only mark it deleted (its bytes stay in the
saved file). Here ``remove`` compacts both code arrays, so a saved index is byte for byte
the one that never held the vector (tests/unit/test_vector_index.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import struct
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from os1.memory.embeddings import Vector
from os1.storage.private_files import open_private, private_dir

# Candidates the fast scan hands to the 8-bit re-scoring: SHORTLIST, or one in
# SHORTLIST_PER of the index if that is more, up to MAX_SHORTLIST. Measured on random
# 384-d unit vectors (the hardest case) at 300k: recall@10 after the re-scoring was 0.948
# with 150, 0.986 with 300, 0.993 with 500 and 1.000 with 1,000; the fast scan's imposters
# grow with the index, so the list does too (3,333 at a million: +1 ms).
SHORTLIST = 1000
SHORTLIST_PER = 300
MAX_SHORTLIST = 5000
# Candidates decoded at a time: numpy hands a bigger product to several BLAS threads,
# which on busy cores took 8 ms for 3,000 instead of 0.6 ms.
DECODE_CHUNK = 500
# Vectors the quantisers are trained on: plenty for 16 centroids per 2-dimensional
# sub-space and for per-dimension ranges; more only lengthens the build.
TRAIN_SAMPLE = 50_000
# ... and at least this many: 39 per centroid, as faiss asks.
MIN_TRAIN = 16 * 39
# faiss's own threads: one, as llama.cpp keeps the cores busy while she talks; a scan
# takes a few milliseconds on one core.
THREADS = 1
MAGIC = b"OS1VECS1"
_HEADER = struct.Struct("<8sI")
_ZEROS = bytes(1 << 20)


class IndexUnreadable(ValueError):
    """The index file is missing, damaged or not an index: rebuild it from the database."""


class VectorIndex:
    """(memory id, unit vector) pairs; inner product is cosine. Thread-safe."""

    def __init__(self, coarse: Any, fine: Any, ids: npt.NDArray[np.int64]) -> None:
        self._coarse = coarse  # IndexPQFastScan: labels are positions in ``_ids``
        self._fine = fine  # IndexScalarQuantizer, 8 bits: the same positions
        self._ids = ids
        self._lock = threading.Lock()

    @classmethod
    def trained(cls, sample: Vector) -> VectorIndex:
        """An empty index whose quantisers learned ``sample``. One smaller than
        ``MIN_TRAIN`` is topped up with random unit vectors: k-means needs points to
        train on, and the caller re-scores exactly whatever the codes get wrong."""
        faiss = _faiss()
        data = np.ascontiguousarray(sample, dtype=np.float32)
        dim = data.shape[1]
        if len(data) < MIN_TRAIN:
            noise = np.random.default_rng(0).standard_normal((MIN_TRAIN - len(data), dim))
            noise /= np.linalg.norm(noise, axis=1, keepdims=True)
            data = np.ascontiguousarray(np.vstack([data, noise]), dtype=np.float32)
        coarse = faiss.IndexPQFastScan(dim, _subspaces(dim), 4, faiss.METRIC_INNER_PRODUCT)
        fine = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_8bit,
                                          faiss.METRIC_INNER_PRODUCT)
        coarse.train(data)
        fine.train(data)
        return cls(coarse, fine, np.zeros(0, dtype=np.int64))

    @classmethod
    def build(cls, ids: Sequence[int], vectors: Vector) -> VectorIndex:
        """Trained on a sample of ``vectors``, then holding all of them."""
        rng = np.random.default_rng(0)
        sample = vectors if len(vectors) <= TRAIN_SAMPLE else \
            vectors[np.sort(rng.choice(len(vectors), TRAIN_SAMPLE, replace=False))]
        built = cls.trained(sample)
        built.add(ids, vectors)
        return built

    @classmethod
    def load(cls, path: Path) -> tuple[VectorIndex, dict[str, Any]]:
        """The index saved at ``path`` and the ``meta`` it was saved with; raises
        ``IndexUnreadable`` for anything but a whole, consistent file."""
        try:
            with path.open("rb") as file:
                meta = _read_header(file)
                count = int(meta["count"])
                ids = np.frombuffer(_read_exactly(file, 8 * count), dtype="<i8").astype(np.int64)
                coarse, fine = _read_faiss(file), _read_faiss(file)
        except (OSError, RuntimeError, ValueError, KeyError, TypeError, struct.error) as exc:
            raise IndexUnreadable(f"{path}: {exc}") from exc
        if not coarse.ntotal == fine.ntotal == count:
            raise IndexUnreadable(f"{path}: {count} ids for {coarse.ntotal}/{fine.ntotal} codes")
        return cls(coarse, fine, ids), meta

    def save(self, path: Path, meta: dict[str, Any]) -> None:
        """Written beside ``path`` and moved over it, so a crash leaves the old file whole;
        then the replaced file's bytes are overwritten with zeros before they are let go
        (as SQLite's secure_delete does for deleted rows): a forgotten vector removed
        since the last save is in neither file."""
        partial = path.with_name(path.name + ".partial")
        with self._lock, open_private(partial) as file:
            _write_header(file, {**meta, "count": len(self._ids)})
            file.write(self._ids.astype("<i8").tobytes())
            _write_faiss(self._coarse, file)
            _write_faiss(self._fine, file)
            file.flush()
            os.fsync(file.fileno())
        old = path.open("r+b") if path.exists() else None
        try:
            partial.replace(path)
            if old is not None:
                _zero(old)
        finally:
            if old is not None:
                old.close()

    def __len__(self) -> int:
        return len(self._ids)

    def ids(self) -> npt.NDArray[np.int64]:
        """The memory ids held, in no particular order (a copy)."""
        with self._lock:
            return self._ids.copy()

    def add(self, ids: Sequence[int], vectors: Vector) -> None:
        """Adds (or replaces) these memories' vectors."""
        if not len(ids):
            return
        data = np.ascontiguousarray(vectors, dtype=np.float32)
        with self._lock:
            self._remove(np.asarray(ids, dtype=np.int64))
            self._coarse.add(data)
            self._fine.add(data)
            self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])

    def remove(self, ids: Sequence[int]) -> int:
        """Takes the vectors out of the index for good; how many were there."""
        if not len(ids):
            return 0
        with self._lock:
            return self._remove(np.asarray(ids, dtype=np.int64))

    def search(self, query: Vector, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` (id, approximate cosine), best first."""
        if k <= 0 or not len(self._ids):
            return []
        data = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        count = len(self._ids)
        shortlist = max(k, min(MAX_SHORTLIST, max(SHORTLIST, count // SHORTLIST_PER)))
        with self._lock:
            _, found = self._coarse.search(data, min(shortlist, count))
            positions = found[0][found[0] >= 0]
            if not len(positions):
                return []
            codes = self._fine_codes()
            scores = np.concatenate([
                self._fine.sa_decode(codes[positions[start:start + DECODE_CHUNK]]) @ data[0]
                for start in range(0, len(positions), DECODE_CHUNK)])
            best = np.argsort(-scores, kind="stable")[:k]
            return [(int(self._ids[positions[i]]), float(scores[i])) for i in best]

    # -- internals -----------------------------------------------------------------------

    def _remove(self, ids: npt.NDArray[np.int64]) -> int:
        positions = np.flatnonzero(np.isin(self._ids, ids))
        if not len(positions):
            return 0
        selector = _faiss().IDSelectorBatch(positions.astype(np.int64))
        self._coarse.remove_ids(selector)
        self._fine.remove_ids(selector)
        self._ids = np.delete(self._ids, positions)
        self._clear_padding()
        return len(positions)

    def _clear_padding(self) -> None:
        """The fast scan stores codes in blocks of 32; after a removal the unused slots
        at the end of the last block still hold the codes that were there (the removed
        vector's, if it was last). Zeroed, as in a block that never held them."""
        packer = self._coarse.get_CodePacker()
        count = len(self._ids)
        slots = -(-count // packer.nvec) * packer.nvec
        if slots == count:
            return
        codes = self._coarse.codes
        blocks = _faiss().rev_swig_ptr(codes.get(), codes.size()).reshape(-1, packer.block_size)
        blank = np.zeros(packer.code_size, dtype=np.uint8)
        first = slots - packer.nvec  # the last block's first slot
        for slot in range(count, slots):
            packer.pack_1(blank, slot - first, blocks[-1:])

    def _fine_codes(self) -> npt.NDArray[np.uint8]:
        """The 8-bit codes as a (count, dim) view, without a copy (its address moves
        whenever codes are added or removed: taken afresh each time, under the lock)."""
        codes = self._fine.codes
        view: npt.NDArray[np.uint8] = _faiss().rev_swig_ptr(codes.data(), codes.size())
        return view.reshape(-1, self._fine.code_size)


@contextlib.contextmanager
def index_lock(path: Path, *, exclusive: bool) -> Iterator[None]:
    """An advisory lock on the index at ``path``, between processes: a writer must not
    save an index made before another process forgot a memory over that one's scrubbed
    file, and a reader must not read a file being replaced."""
    private_dir(path.parent)
    with path.with_name(path.name + ".lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _subspaces(dim: int) -> int:
    """Sub-quantisers for 4-bit codes of about two dimensions each (fewer, longer
    sub-spaces lost a tenth of recall@10 on random vectors)."""
    return max(m for m in range(1, max(1, dim // 2) + 1) if dim % m == 0)


def _write_header(file: BinaryIO, meta: dict[str, Any]) -> None:
    body = json.dumps(meta, sort_keys=True).encode("utf-8")
    file.write(_HEADER.pack(MAGIC, len(body)) + body)


def _read_header(file: BinaryIO) -> dict[str, Any]:
    magic, size = _HEADER.unpack(_read_exactly(file, _HEADER.size))
    if magic != MAGIC:
        raise ValueError("not an os1 vector index")
    meta = json.loads(_read_exactly(file, size))
    if not isinstance(meta, dict):
        raise ValueError("a header that is not an object")
    return meta


def _read_exactly(file: BinaryIO, size: int) -> bytes:
    data = file.read(size)
    if len(data) != size:
        raise ValueError("the file ends early")
    return data


def _write_faiss(index: Any, file: BinaryIO) -> None:
    faiss = _faiss()
    writer = faiss.PyCallbackIOWriter(file.write)
    faiss.write_index(index, writer)
    del writer  # flushes


def _read_faiss(file: BinaryIO) -> Any:
    faiss = _faiss()
    return faiss.read_index(faiss.PyCallbackIOReader(file.read))


def _zero(file: BinaryIO) -> None:
    size = file.seek(0, os.SEEK_END)
    file.seek(0)
    for start in range(0, size, len(_ZEROS)):
        file.write(_ZEROS[:min(len(_ZEROS), size - start)])
    file.flush()
    os.fsync(file.fileno())


def _faiss() -> Any:
    """faiss, with its OpenMP threads capped (they would fight llama.cpp for the cores)."""
    import faiss

    if faiss.omp_get_max_threads() != THREADS:
        faiss.omp_set_num_threads(THREADS)
    return faiss
