"""Her one self on a server: everyone she talks with can change who she is, and no one
can read another person in it.

``os1 chat`` keeps her self-model per person (one person, one her). ``os1 serve`` keeps
one, under ``SHARED_SELF``, because a mind that talks with thousands is still one mind.
Reflection on one person's memories proposes changes; before they reach the self every
other person reads in their system prompt, each new item is checked against that
person's memories, and the change is recorded with a reason from ``self.toml`` and no
source ids (those would point into one person's memories).

The check is a filter, not a proof: an item is dropped if it holds a detail
(``details.py``: a number in digits or words, an email or web address, a date, a
capitalised name, or one of the person's names and places in any case or spelling: a word
of theirs that is no ordinary English word, "catherine" or "paris" as much as "Catherine"),
or two content words that stand within three content words of each other in one of their
memories, in either order (with crude plural and tense folding). So "jazz" or "why people
keep old letters" can pass; "Lisbon", "lisbon", "the PIN 4921", "forty-two", "Theo's
divorce" or "exam cheating" cannot. A single common word can still hint at a topic
("divorce"), never at whose it was; a name that is also a common word ("mark", "rose"),
written in lowercase, passes as the word.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from os1.data import read_toml
from os1.memory.details import detail_in, private_names
from os1.memory.embeddings import STOPWORDS, words
from os1.memory.selfmodel import ASPECTS, SelfHistory, SelfModel, SelfVersion
from os1.storage.db import Database

SHARED_SELF = "her"  # the user_id her one self is kept under (accounts are account:N)
NEAR = 3  # content words this close in a person's memory count as a detail of theirs


class SharedSelf(SelfHistory):
    """``private``: what the person whose reflection is growing her said and is (their
    name, their memories), read when a change is proposed."""

    def __init__(self, db: Database, private: Callable[[], Iterable[str]],
                 clock: Callable[[], float] = time.time) -> None:
        super().__init__(db, SHARED_SELF, clock)
        self._private = private

    def update(self, model: SelfModel, reason: str, sources: tuple[int, ...]
               ) -> SelfVersion | None:
        kept = shareable_change(self.current().model, model, list(self._private()))
        return super().update(kept, str(read_toml("self.toml")["shared_reason"]), ())


def shareable_change(current: SelfModel, proposed: SelfModel, private: list[str]) -> SelfModel:
    """``proposed`` with every new item that could carry someone's details left out
    (items she already had stay; letting one go reveals nothing)."""
    names, pairs = private_names(private), _pairs(private)
    return SelfModel.from_mapping({
        aspect: [item for item in getattr(proposed, aspect)
                 if item in getattr(current, aspect) or shareable(item, names, pairs)]
        for aspect in ASPECTS})


def shareable(item: str, names: frozenset[str], pairs: set[tuple[str, str]]) -> bool:
    if detail_in(item, names) is not None:
        return False
    found = words(item)
    return not _near_pairs([_stem(w) for w in found if w not in STOPWORDS]) & pairs


def _pairs(private: list[str]) -> set[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    for text in private:
        pairs |= _near_pairs([_stem(w) for w in words(text) if w not in STOPWORDS])
    return pairs


def _near_pairs(stems: list[str]) -> set[tuple[str, str]]:
    """Content words within ``NEAR`` of each other, in either order: "exam cheating" is
    "cheated on her chemistry exam" too."""
    return {(min(a, b), max(a, b)) for i, a in enumerate(stems)
            for b in stems[i + 1:i + 1 + NEAR] if a != b}


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            return word[:-len(suffix)]
    return word
