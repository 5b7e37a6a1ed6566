"""The approximate index for big memories (os1/memory/vector_index.py): it finds what
exact search finds, takes a forgotten vector out for good, and refuses a damaged file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from os1.memory.embeddings import Vector, normalise_rows
from os1.memory.vector_index import MIN_TRAIN, IndexUnreadable, VectorIndex


def unit_vectors(count: int, dim: int = 64, seed: int = 1) -> Vector:
    """Vectors around 50 topics, as embeddings of many memories are."""
    rng = np.random.default_rng(seed)
    topics = np.random.default_rng(0).normal(size=(50, dim))
    around = topics[rng.integers(0, 50, count)] + 0.6 * rng.normal(size=(count, dim))
    return normalise_rows(around, dim)


def random_vectors(count: int, dim: int = 64, seed: int = 3) -> Vector:
    """No structure at all: the worst case for an approximate index."""
    return normalise_rows(np.random.default_rng(seed).normal(size=(count, dim)), dim)


@pytest.mark.parametrize("make", [unit_vectors, random_vectors])
def test_its_best_guesses_hold_what_exact_search_finds(make: object) -> None:
    assert callable(make)
    vectors = make(4000)
    ids = list(range(10, 4010))
    index = VectorIndex.build(ids, vectors)
    assert len(index) == 4000
    hits = 0
    for query in make(20, seed=2):
        exact = {ids[i] for i in np.argsort(-(vectors @ query))[:10]}
        found = index.search(query, 40)  # what the store re-scores exactly for 10
        hits += len(exact & {i for i, _ in found})
        scores = [s for _, s in found]
        assert scores == sorted(scores, reverse=True)
    assert hits / 200 >= 0.98


def test_a_removed_vector_is_gone_as_if_it_had_never_been_there(tmp_path: Path) -> None:
    count = 17_000  # past the 16,384th code (faiss's packer has to be handed the last block)
    vectors = unit_vectors(count)
    ids = list(range(count))
    index = VectorIndex.build(ids, vectors)
    # the last one (its code shared a block with padding) and one from the middle
    last = count - 1
    assert index.remove([last, 123, 99_999]) == 2
    assert all(i not in (123, last) for i, _ in index.search(vectors[123], 50))
    never = VectorIndex.trained(vectors)  # the same training, deterministic
    kept = [i for i in ids if i not in (123, last)]
    never.add(kept, vectors[kept])
    index.save(tmp_path / "removed.index", {"events": 7})
    never.save(tmp_path / "never.index", {"events": 7})
    assert (tmp_path / "removed.index").read_bytes() == (tmp_path / "never.index").read_bytes()
    again, meta = VectorIndex.load(tmp_path / "removed.index")
    assert meta == {"events": 7, "count": count - 2}
    assert len(again) == count - 2 and sorted(again.ids().tolist()) == kept
    assert again.search(vectors[5], 1)[0][0] == 5


def test_saving_over_an_index_zeroes_the_replaced_file(tmp_path: Path) -> None:
    path = tmp_path / "theo.index"
    vectors = unit_vectors(1000)
    index = VectorIndex.build(list(range(1000)), vectors)
    index.save(path, {})
    with path.open("rb") as old:  # a reader of the old file, as the disk sees it
        index.remove([1])
        index.save(path, {})
        assert set(old.read()) == {0}
    assert len(VectorIndex.load(path)[0]) == 999


def test_added_vectors_are_found_replaced_and_removed() -> None:
    vectors = unit_vectors(1000)
    index = VectorIndex.build(list(range(1000)), vectors)
    fresh = unit_vectors(3, seed=9)
    index.add([5000, 5001, 5002], fresh)
    assert index.search(fresh[1], 1)[0][0] == 5001
    index.add([5001], fresh[2:3])  # again: replaced, not held twice
    assert len(index) == 1003
    assert index.search(fresh[2], 2)[0][0] in (5001, 5002)
    assert index.search(fresh[1], 0) == []
    assert index.remove([*range(1000), 5000, 5001, 5002]) == 1003
    assert len(index) == 0 and index.search(fresh[1], 5) == []


def test_a_small_sample_still_trains_an_index() -> None:
    vectors = unit_vectors(20)
    assert MIN_TRAIN > 20
    index = VectorIndex.build(list(range(20)), vectors)
    assert [i for i, _ in index.search(vectors[7], 1)] == [7]


@pytest.mark.parametrize("damage", ["empty", "garbage", "truncated", "missing"])
def test_a_damaged_file_is_refused_as_unreadable(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "theo.index"
    VectorIndex.build(list(range(1000)), unit_vectors(1000)).save(path, {})
    whole = path.read_bytes()
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes({"empty": b"", "garbage": b"\x07" * 5000,
                          "truncated": whole[:len(whole) // 2]}[damage])
    with pytest.raises(IndexUnreadable):
        VectorIndex.load(path)
