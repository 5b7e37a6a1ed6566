"""Her one self on a server: everyone she talks with can change who she is, and no one
can read another person in it.

``os1 chat`` keeps her self-model per person (one person, one her). ``os1 serve`` keeps
one, under ``SHARED_SELF``, because a mind that talks with thousands is still one mind.
Reflection on one person's memories proposes changes; before they reach the self every
other person reads in their system prompt, each new item is checked against that
person's memories, and the change is recorded with a reason from ``self.toml`` and no
source ids (those would point into one person's memories).

The check is a filter, not a proof: an item is dropped if it holds a digit, an address, a
name (a capitalised word, or a word that is capitalised mid-sentence in the person's
memories), or two content words that stand within three content words of each other in
one of those memories, in either order (with crude plural and tense folding). So "jazz"
or "why people keep old letters" can pass; "Lisbon", "the PIN 4921", "Theo's divorce" or
"exam cheating" cannot. A single common word can still hint at a topic ("divorce"),
never at whose it was.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable

from os1.data import read_toml
from os1.memory.embeddings import STOPWORDS, words
from os1.memory.selfmodel import ASPECTS, SelfHistory, SelfModel, SelfVersion
from os1.storage.db import Database

SHARED_SELF = "her"  # the user_id her one self is kept under (accounts are account:N)
_CAPITALISED = re.compile(r"(?<![.!?:;]\s)(?<!^)\b[A-Z][\w'-]*")
NEAR = 3  # content words this close in a person's memory count as a detail of theirs
_ADDRESS = re.compile(r"\d|@|https?:|www\.", re.IGNORECASE)


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
    names, pairs = _names(private), _pairs(private)
    return SelfModel.from_mapping({
        aspect: [item for item in getattr(proposed, aspect)
                 if item in getattr(current, aspect) or shareable(item, names, pairs)]
        for aspect in ASPECTS})


def shareable(item: str, names: set[str], pairs: set[tuple[str, str]]) -> bool:
    if _ADDRESS.search(item) or any(w.split("'")[0] != "I" for w in _CAPITALISED.findall(item)):
        return False
    found = words(item)
    if any(w in names for w in found):
        return False
    return not _near_pairs([_stem(w) for w in found if w not in STOPWORDS]) & pairs


def _names(private: list[str]) -> set[str]:
    """Words written with a capital where a sentence doesn't start: names of people,
    pets and places. A name on its own (the person's name) counts whole."""
    found = {w.lower() for text in private for w in _CAPITALISED.findall(text)}
    found |= {w for text in private if len(words(text)) == 1 for w in words(text)}
    return found - {"i"}


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
