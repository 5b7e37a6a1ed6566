"""A big memory (past ``ann_threshold``): vector search through the index finds what brute
force finds, the index follows every write and is saved beside the database, forgetting
takes a vector out of it for good, and a missing, damaged or stale index is rebuilt or
brought up to date, never a crash and never a lost memory."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

import os1.cli.sessions as cli
import os1.memory.rare_terms as rare_terms
from os1.config import Settings
from os1.llm.fake import FakeModel
from os1.memory.embeddings import Vector, normalise_rows
from os1.memory.memories import MemoryStore
from os1.memory.records import MemoryDraft
from os1.memory.retrieval import recall, recall_text, recall_vector
from os1.memory.vector_index import VectorIndex
from os1.storage.db import Database
from os1.storage.sqlite import SQLiteDatabase

DIM = 64
TOPICS = 40
COUNT = 3000
THRESHOLD = 1000


def vocabulary(text: str) -> list[str]:
    return text.split()


NAMES = vocabulary("""Marguerite Theo Ana Jonas Priya Malik Sofia Kenji Lucia Omar Elena Tobias
    Nadia Rafael Ingrid Mateo Hana Dmitri Chloe Yusuf Greta Arjun Camille Luca Amara Felix
    Noor Bruno Leila Oskar Mina Pablo Freya Idris Clara Ravi Jun Esme Tariq Vera""")
PLACES = vocabulary("""Lisbon Boston Oaxaca Kyoto Glasgow Nairobi Porto Montreal Seville Tbilisi
    Hanoi Bergen Marseille Krakow Austin Dublin Cusco Tallinn Palermo Bilbao""")


class TopicEmbedder:
    """Clustered vectors, as real embeddings of many memories are: a text's first word
    picks one of ``TOPICS`` centres, the whole text (hashed) the noise around it."""

    name = "test/topics"
    dim = DIM

    def __init__(self) -> None:
        centres = np.random.default_rng(0).normal(size=(len(NAMES), DIM))
        self._centres = {name: centres[i] for i, name in enumerate(NAMES)}

    def embed_passages(self, texts: Sequence[str]) -> Vector:
        rows = np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, DIM))
        return normalise_rows(rows, DIM)

    def embed_query(self, text: str) -> Vector:
        vector: Vector = self.embed_passages([text])[0]
        return vector

    def _vector(self, text: str) -> Vector:
        seed = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")
        noise = np.random.default_rng(seed).normal(size=DIM)
        centre = self._centres.get(text.split()[0], np.zeros(DIM))
        vector: Vector = (centre + 0.7 * noise).astype(np.float32)
        return vector


def texts(count: int = COUNT) -> list[str]:
    """Memories with no word in more than ~6% of them (names, places, numbers)."""
    return [f"{NAMES[i % TOPICS]} visited {PLACES[i % 17]} with friend {i}"
            for i in range(count)]


def fill(store: MemoryStore, count: int = COUNT) -> list[int]:
    return [m.id for m in store.add_many([MemoryDraft("fact", t) for t in texts(count)],
                                         at=1_700_000_000.0)]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "os1.db"


@pytest.fixture
def db(path: Path) -> Iterator[SQLiteDatabase]:
    database = SQLiteDatabase.connect(path)
    yield database
    database.close()


def big(db: Database, threshold: int = THRESHOLD) -> MemoryStore:
    return MemoryStore(db, "theo", TopicEmbedder(), ann_threshold=threshold)


def index_file(path: Path) -> Path:
    [found] = (path.parent / (path.name + ".vectors")).glob("*.index")
    return found


def restart(db_path: Path) -> tuple[SQLiteDatabase, MemoryStore]:
    """A new process, as far as the index goes: no store of the old one holds it."""
    gc.collect()
    again = SQLiteDatabase.connect(db_path)
    return again, big(again)


def exact_top(store: MemoryStore, query: str, k: int) -> list[int]:
    ids, matrix = store.active_vectors()  # brute force, independently of the index
    scores = matrix @ store.embedder.embed_query(query)
    return [ids[i] for i in np.argsort(-scores, kind="stable")[:k]]


SECRET = "Theo whispered the secret code to Ana"
QUERIES = [f"{name} trip with friend {n}" for name, n in zip(NAMES, range(7, 3000, 131),
                                                             strict=False)][:20]


def test_a_small_store_keeps_brute_force_and_writes_no_index(db: Database, path: Path) -> None:
    store = big(db, threshold=COUNT + 1)
    fill(store)
    assert not store.prepare_index()
    assert recall_vector(store, QUERIES[0], k=3)
    assert not (path.parent / (path.name + ".vectors")).exists()


def test_past_the_threshold_vector_search_finds_what_brute_force_finds(db: Database) -> None:
    store = big(db)
    fill(store)
    hits = 0
    for query in QUERIES:
        found = recall_vector(store, query, k=10)
        expected = exact_top(store, query, 10)
        hits += len({s.memory.id for s in found} & set(expected))
        vectors = dict(zip(*store.active_vectors(), strict=True))
        for scored in found:  # the cosine reported is exact, not the index's estimate
            exact = float(vectors[scored.memory.id] @ store.embedder.embed_query(query))
            assert scored.cosine == pytest.approx(exact, abs=1e-5)
    assert store.prepare_index()
    assert hits / (10 * len(QUERIES)) >= 0.98


def test_big_and_small_stores_recall_the_same_memories(tmp_path: Path) -> None:
    small_db = SQLiteDatabase.connect(tmp_path / "small" / "os1.db")
    big_db = SQLiteDatabase.connect(tmp_path / "big" / "os1.db")
    small, large = big(small_db, threshold=10 * COUNT), big(big_db)
    fill(small)
    fill(large)
    assert large.prepare_index() and not small.prepare_index()
    for query in [*QUERIES[:8], "Who went to Lisbon?", "Marguerite in Kyoto"]:
        for method in (recall_text, recall):
            want, got = method(small, query, k=8), method(large, query, k=8)
            assert [s.memory.id for s in got] == [s.memory.id for s in want], (method, query)
            assert [s.score for s in got] == pytest.approx([s.score for s in want])


def test_a_big_store_leaves_its_most_common_words_out_of_bm25(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    store = big(db)
    fill(store)
    rare = store.add("fact", "Marguerite keeps a telescope on the roof")
    monkeypatch.setattr(rare_terms, "COMMON_TERM_MATCHES", 50)  # "marguerite": 75
    assert [m.id for m, _ in store.text_search(["marguerite", "telescope"], 5)] == [rare.id]
    assert store.text_search(["marguerite"], 5) == []


@pytest.mark.both_backends
def test_a_word_is_common_by_this_users_active_memories_alone(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted before it is scored: another user's memories and replaced versions that
    hold a word don't make it common, on either backend."""
    monkeypatch.setattr(rare_terms, "COMMON_TERM_MATCHES", 50)
    opened = Database.open(settings.storage)
    try:
        store = MemoryStore(opened, "theo", TopicEmbedder(), ann_threshold=100)
        fill(store, 200)  # "visited" in all 200
        MemoryStore(opened, "ana", TopicEmbedder()).add_many(
            [MemoryDraft("fact", f"Ana keeps telescope {i}") for i in range(60)])
        for room in range(60):  # each version replaces the one before
            newest = store.add("fact", f"The telescope is in room {room}", subject="telescope")
        assert store.prepare_index()
        assert rare_terms.rare_terms(opened, "theo", ["visited", "telescope"], 0.5) \
            == ["telescope"]
        assert [m.id for m, _ in store.text_search(["visited", "telescope"], 5)] \
            == [newest.id]
    finally:
        opened.close()


def test_the_index_follows_adds_edits_and_supersessions(db: Database) -> None:
    store = big(db)
    fill(store)
    assert store.prepare_index()
    old = store.add("fact", "Vera moved to Tbilisi last spring", subject="vera/home")
    assert recall_vector(store, "Vera moved to Tbilisi last spring", k=1)[0].memory.id == old.id
    new = store.add("fact", "Vera moved to Porto in the autumn", subject="vera/home")
    assert recall_vector(store, "Vera moved to Porto in the autumn", k=1)[0].memory.id == new.id
    assert old.id not in near(store, "Vera moved to Tbilisi last spring")
    edited = store.edit(new.id, "Vera moved to Porto in the winter")
    assert recall_vector(store, "Vera moved to Porto in the winter", k=1)[0].memory.id \
        == edited.id
    assert new.id not in near(store, "Vera moved to Porto in the autumn")


def near(store: MemoryStore, query: str) -> list[int]:
    return [s.memory.id for s in recall_vector(store, query, k=50)]


def test_forgetting_takes_the_vector_out_of_the_index_file_for_good(db: Database,
                                                                    path: Path) -> None:
    store = big(db)
    ids = fill(store)
    assert store.prepare_index()
    file = index_file(path)
    before, _ = VectorIndex.load(file)
    doomed = store.add("fact", SECRET)
    assert recall_vector(store, SECRET, k=1)[0].memory.id == doomed.id
    store.forget(doomed.id)
    saved, meta = VectorIndex.load(file)  # saved at once, not at the next batch of changes
    assert doomed.id not in saved.ids() and len(saved) == len(before) == len(ids)
    assert meta["events"] == db.execute("SELECT MAX(id) FROM memory_events").fetchone()[0]
    assert doomed.id not in near(store, SECRET)
    store.forget(ids[0])  # one that was in the saved file itself
    assert ids[0] not in VectorIndex.load(file)[0].ids()


def test_a_restart_loads_the_saved_index_and_replays_what_came_after(
        db: Database, path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = big(db)
    fill(store)
    assert store.prepare_index()
    later = store.add("fact", "Greta learned to sail in Bergen")  # not yet in the file
    del store
    again, fresh = restart(path)

    def no_building(sample: Vector) -> VectorIndex:
        raise AssertionError("built again instead of loaded")

    loads: list[Path] = []
    load = VectorIndex.load

    def counted(file: Path) -> tuple[VectorIndex, dict[str, object]]:
        loads.append(file)
        return load(file)

    monkeypatch.setattr(VectorIndex, "trained", no_building)
    monkeypatch.setattr(VectorIndex, "load", counted)
    assert recall_vector(fresh, "Greta learned to sail in Bergen", k=1)[0].memory.id == later.id
    assert loads == [index_file(path)]
    again.close()


def test_another_store_on_the_same_file_shares_the_index_and_sees_its_writes(
        db: Database, path: Path) -> None:
    writer = big(db)
    fill(writer)
    assert writer.prepare_index()
    other_db = SQLiteDatabase.connect(path)
    reader = big(other_db)
    added = writer.add("fact", "Oskar painted the boat blue")
    assert recall_vector(reader, "Oskar painted the boat blue", k=1)[0].memory.id == added.id
    other_db.close()


@pytest.mark.parametrize("damage", ["missing", "garbage", "another embedder", "stale"])
def test_a_missing_damaged_or_stale_index_is_rebuilt_without_losing_a_memory(
        db: Database, path: Path, damage: str) -> None:
    store = big(db)
    ids = fill(store)
    assert store.prepare_index()
    file = index_file(path)
    del store
    if damage == "missing":
        file.unlink()
    elif damage == "garbage":
        file.write_bytes(b"\x00" * 4096)
    elif damage == "another embedder":
        index, meta = VectorIndex.load(file)
        index.save(file, {**meta, "embedder": "someone/else"})
    else:  # a file from before memories that no event mentions any more
        index, meta = VectorIndex.load(file)
        index.remove(ids[:100])
        index.save(file, meta)
    again, fresh = restart(path)
    started: list[tuple[str, int]] = []
    done: list[int] = []

    def on_start(description: str, total: int) -> Callable[[int], None]:
        started.append((description, total))
        return done.append

    assert fresh.prepare_index(on_start)
    rebuilt = damage != "stale"
    assert (started == [(f"Indexing {len(ids):,} memories for recall", len(ids))]) == rebuilt
    assert sorted(VectorIndex.load(file)[0].ids().tolist()) == ids
    first = texts()[0]
    assert recall_vector(fresh, first, k=1)[0].memory.id == ids[0]
    again.close()


def test_an_in_memory_database_keeps_its_index_in_memory(tmp_path: Path) -> None:
    memory_db = SQLiteDatabase.connect(Path(":memory:"))
    store = big(memory_db)
    fill(store, 1500)
    assert store.prepare_index()
    assert recall_vector(store, texts()[42], k=1)[0].memory.content == texts()[42]
    store.forget(recall_vector(store, texts()[42], k=1)[0].memory.id)
    assert recall_vector(store, texts()[42], k=1)[0].memory.content != texts()[42]
    assert not list(tmp_path.glob("**/*.index"))


@pytest.mark.both_backends
def test_a_big_store_recalls_on_either_backend(settings: Settings) -> None:
    opened = Database.open(settings.storage)  # PostgreSQL: the index lives in memory
    try:
        store = MemoryStore(opened, "theo", TopicEmbedder(), ann_threshold=THRESHOLD)
        ids = fill(store, 1200)
        assert store.prepare_index()
        assert recall(store, texts()[0], k=3)[0].memory.id == ids[0]
        assert recall_text(store, "Marguerite Lisbon", k=3)
        store.forget(ids[0])
        assert ids[0] not in [s.memory.id for s in recall(store, texts()[0], k=10)]
    finally:
        opened.close()


def test_os1_chat_builds_a_big_stores_index_as_it_starts_with_a_progress_bar(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loaded or built before the first message, in sight, not on the first recall."""
    opened = Database.open(settings.storage)
    try:
        store = MemoryStore(opened, settings.user, TopicEmbedder(), ann_threshold=THRESHOLD)
        ids = fill(store, 1200)
        assert store.prepare_index()  # saved beside the database: it is big from now on
        file = index_file(Path(opened.location))
        del store
        gc.collect()
        file.write_bytes(b"\x00" * 4096)  # damaged: the next start rebuilds it
        bars: list[tuple[str, int]] = []

        def bar(description: str, total: int) -> Callable[[int], None]:
            bars.append((description, total))
            return lambda _done: None

        monkeypatch.setattr(cli, "count_bar", bar)
        monkeypatch.setattr(cli, "open_embedder", lambda *_args: TopicEmbedder())
        with cli.remembering(settings, opened, FakeModel()):
            assert bars == [("Indexing 1,200 memories for recall", 1200)]
            assert sorted(VectorIndex.load(file)[0].ids().tolist()) == ids
    finally:
        opened.close()
