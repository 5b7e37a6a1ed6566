"""Her tact: she cheers only for something glad.

"Hi. Long day. I just got home." was answered "Oh, that's great.", and "I wrote a letter
... and I cried a little" "That's wonderful." Her critic (critic.py) scored both under
0.15: it was fitted on sentences, and a short cheer is a fine sentence after good news.
What is wrong is the pair, so this asks two plain questions: does her first sentence
cheer (VADER reads it as strongly positive, and it is short: a verdict on his news), and
is there anything glad in his message to cheer (its nearest examples in
``data/tact.toml``, by meaning, are glad ones rather than hard or plain ones)? A cheer
for nothing glad is asked for again, before a word of it is shown (the guard,
steering.py, asks this of her opening words only: a poem's third line is no verdict on
his news).

Meaning, not words: the examples are whole messages, and a new message is judged by
which it sits nearest, so "I just got home after ten hours" needs no pattern of its own.
benchmarks/tact.py measures the split on EmpatheticDialogues' labelled openings.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import numpy.typing as npt

from os1.data import read_toml
from os1.memory.embeddings import Embedder
from os1.mind.critic import MESSAGE_CHARS, words
from os1.mind.mood import compound

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class TactConfig:
    """``data/tact.toml``: the example messages and the two thresholds."""

    glad: tuple[str, ...]
    other: tuple[str, ...]  # hard and plain messages: nothing to cheer
    nearest: int
    cheer_compound: float
    cheer_words: int

    @classmethod
    def load(cls) -> TactConfig:
        data = read_toml("tact.toml")
        return cls(tuple(map(str, data["glad"])),
                   tuple(map(str, [*data["hard"], *data["plain"]])),
                   int(data["nearest"]), float(data["cheer_compound"]),
                   int(data["cheer_words"]))


@cache
def tact_config() -> TactConfig:
    return TactConfig.load()


# The examples' vectors by embedder name: embedded once a process, on first need (a
# hundred short texts, about two seconds; most turns never need them).
_EXAMPLES: dict[str, tuple[Floats, Floats]] = {}
_EXAMPLES_LOCK = threading.Lock()


@dataclass(frozen=True)
class Tact:
    """Reads his messages with ``embedder``."""

    embedder: Embedder
    config: TactConfig = field(default_factory=tact_config)

    def cheers(self, sentence: str) -> bool:
        """A short, strongly positive verdict: "Oh, that's great.", "How exciting!"."""
        return len(words(sentence)) <= self.config.cheer_words \
            and compound(sentence) >= self.config.cheer_compound

    def glad(self, message: str) -> bool:
        """His message sits nearer glad news than hard or plain talk."""
        glad, other = self._vectors()
        vector = np.asarray(self.embedder.embed_query(message[:MESSAGE_CHARS]), np.float64)
        k = self.config.nearest
        return bool(np.sort(glad @ vector)[-k:].mean() > np.sort(other @ vector)[-k:].mean())

    def misplaced(self, message: str, sentence: str) -> bool:
        """She cheers, and there is nothing glad in what he said."""
        return bool(message.strip()) and self.cheers(sentence) and not self.glad(message)

    def _vectors(self) -> tuple[Floats, Floats]:
        with _EXAMPLES_LOCK:
            if self.embedder.name not in _EXAMPLES:
                _EXAMPLES[self.embedder.name] = (self._embed(self.config.glad),
                                                 self._embed(self.config.other))
            return _EXAMPLES[self.embedder.name]

    def _embed(self, texts: tuple[str, ...]) -> Floats:
        return np.array([self.embedder.embed_query(t) for t in texts], dtype=np.float64)
