"""Recall: which memories belong in the prompt for what the user just said.

Hybrid, because each signal fails somewhere the others don't: BM25 finds the rare name
("Marguerite") an embedding blurs; the embedding finds "where does his sister live" for
"Marguerite lives in Lisbon" with no word in common; recency and importance break ties
between equally relevant memories the way a person's memory does; and a time expression
("yesterday", "in March") points at memories by when, not what. Candidates are the union
of the best few by BM25, by cosine and (with a time expression) by time; each signal is
scaled to [0, 1] over the candidates and the score is their weighted sum.

Only active memories are recalled: a superseded fact ("I live in LA") is history, and
recalling it beside its replacement would make her contradict herself.

Cosine is exact either way: over every vector in a store of a person's size, and over the
best guesses of an approximate index in a big one (``MemoryStore.nearest``); a big store
also leaves its most common words out of BM25 (``MemoryStore.text_search``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import tzinfo

from os1.memory.embeddings import content_words, words
from os1.memory.evidence import without_pleasantries
from os1.memory.memories import MemoryStore
from os1.memory.records import Memory
from os1.when.windows import TimeWindow, find_time_window, without_phrase

DAY = 86400.0
MIN_POOL = 32


@dataclass(frozen=True)
class Weights:
    """How much each normalised signal counts. ``time_window`` is added outright to a
    memory inside the window a time expression named, more than either word signal
    alone, because "what happened yesterday?" asks about yesterday first and words second
    (it has to beat BM25 + cosine together: 1.45 does; LoCoMo recall pays ~2 points for it).

    BM25 counts most: tuned with the context column (``MemoryStore.text_search``) on
    LoCoMo conversations 0-4 and checked on 5-7 (recall@5/@10 +6/+7 points over 0.35)."""

    bm25: float = 1.0
    cosine: float = 0.40
    recency: float = 0.10
    importance: float = 0.15
    time_window: float = 1.45
    half_life_days: float = 30.0
    # The moments just before and after each of the best few moments are raised to this
    # share of its score (an answer's evidence is often the next turn or the one before).
    neighbour: float = 0.80
    neighbour_hits: int = 5
    # Added to what she concluded (every kind but a moment). Off by default; on for a
    # question about his own life (``ABOUT_HIM``): "What do I do for a living?" shares no
    # word with "Theo writes letters for other people at work", and among hundreds of
    # moments its cosine ranked below a dozen of them, though it led among the facts.
    distilled: float = 0.0


DEFAULT_WEIGHTS = Weights()
ABOUT_HIM = replace(DEFAULT_WEIGHTS, distilled=0.35)


@dataclass(frozen=True)
class Scored:
    """A recalled memory and why: ``bm25`` (raw, higher is better, 0 if the text search
    missed it) and ``cosine`` (raw similarity) as measured; ``recency`` and
    ``importance`` in [0, 1]; ``score`` what it was ranked by."""

    memory: Memory
    score: float
    bm25: float
    cosine: float
    recency: float
    importance: float


def search_terms(text: str) -> list[str]:
    """The words of ``text`` to search for, each once; ``MemoryStore.text_search`` makes
    them words to look for, never query syntax. Empty when ``text`` has no words."""
    return list(dict.fromkeys(content_words(text)))


def recency(memory: Memory, now: float, half_life_days: float = 30.0) -> float:
    """1 for now (or the future: a promise not yet due), halving every half-life."""
    age_days = max(0.0, now - memory.when) / DAY
    return float(0.5 ** (age_days / half_life_days))


def recall_text(store: MemoryStore, query: str, k: int = 8) -> list[Scored]:
    """BM25 alone (the baseline hybrid recall must not fall below)."""
    terms = search_terms(query)
    if k <= 0 or not terms:
        return []
    now = time.time()
    return [_scored(m, score, score, 0.0, now) for m, score in store.text_search(terms, k)]


def recall_vector(store: MemoryStore, query: str, k: int = 8) -> list[Scored]:
    """Cosine similarity alone (``MemoryStore.nearest``: brute force over a person's
    thousands of memories, an index re-scored exactly past ``ANN_THRESHOLD``)."""
    if k <= 0 or not words(query):
        return []
    cosines = _Cosines(store, query)
    best = cosines.top(k)
    now = time.time()
    return [_scored(m, cosines[m.id], 0.0, cosines[m.id], now)
            for m in _in_order(store.get_many(best), best)]


def recall_of_kinds(store: MemoryStore, query: str, kinds: Sequence[str], k: int,
                    scan: int = 2000) -> list[Scored]:
    """The ``k`` memories of these ``kinds`` (among the newest ``scan``) nearest in meaning
    to ``query``, best first: "What do I do for a living?" shares no word with "Theo
    writes letters for other people at work", and among all memories a dozen moments
    outranked it. Greetings in ``query`` are left out (they pulled "morning" notes up)."""
    topic = without_pleasantries(query)
    if k <= 0 or not words(topic):
        return []
    found = store.active_of(kinds, scan)
    if not found:
        return []
    cosines = store.similarities(store.embedder.embed_query(topic), [m.id for m in found])
    ranked = sorted((m for m in found if m.id in cosines), key=lambda m: -cosines[m.id])
    now = time.time()
    return [_scored(m, cosines[m.id], 0.0, cosines[m.id], now) for m in ranked[:k]]


def recall(store: MemoryStore, query: str, *, k: int = 8, now: float | None = None,
           weights: Weights = DEFAULT_WEIGHTS, tz: tzinfo | None = None) -> list[Scored]:
    """The ``k`` memories that best answer ``query``, best first (see the module doc).

    ``now`` and ``tz`` resolve time expressions and ages (defaults: the clock, local time).
    """
    if k <= 0 or not query.strip():
        return []
    moment = time.time() if now is None else now
    window = find_time_window(query, moment, tz)
    topic = without_pleasantries(without_phrase(query, window))
    pool = max(4 * k, MIN_POOL)
    found = _candidates(store, topic, window, pool)
    ranked = _rank(found, moment, window, weights)
    return _with_neighbours(store, ranked, found, moment, weights)[:k]


def fit_memories(scored: Sequence[Scored], max_tokens: int,
                 count_tokens: Callable[[str], int]) -> list[Scored]:
    """The best memories whose contents fit in ``max_tokens`` together: greedy by score,
    skipping one too long for what is left but still trying the smaller ones after it.
    ``count_tokens`` should count a memory as it will appear in the prompt."""
    chosen: list[Scored] = []
    left = max_tokens
    for item in sorted(scored, key=lambda s: -s.score):
        cost = count_tokens(item.memory.content)
        if cost <= left:
            chosen.append(item)
            left -= cost
    return chosen


@dataclass
class _Candidates:
    memories: dict[int, Memory]
    bm25: dict[int, float]
    cosine: dict[int, float]
    cosines: _Cosines | None = None


def _candidates(store: MemoryStore, topic: str, window: TimeWindow | None,
                pool: int) -> _Candidates:
    """The union of the best ``pool`` by BM25, by cosine and by time window."""
    memories: dict[int, Memory] = {}
    bm25: dict[int, float] = {}
    terms = search_terms(topic)
    if terms:
        for memory, score in store.text_search(terms, pool):
            memories[memory.id], bm25[memory.id] = memory, score
    cosines = _Cosines(store, topic) if words(topic) else None
    wanted = set(cosines.top(pool)) if cosines is not None else set()
    if window is not None:
        memories.update((m.id, m) for m in store.within(window.start, window.end, pool))
    memories.update((m.id, m) for m in store.get_many(wanted - memories.keys()))
    if cosines is not None:
        cosines.fill(memories)
    return _Candidates(memories, bm25,
                       {i: cosines[i] if cosines is not None else 0.0 for i in memories},
                       cosines)


def _rank(found: _Candidates, now: float, window: TimeWindow | None,
          weights: Weights) -> list[Scored]:
    ids = sorted(found.memories)
    bm25 = _min_max([found.bm25.get(i, 0.0) for i in ids])
    cosine = _min_max([found.cosine[i] for i in ids])
    ranked: list[Scored] = []
    for index, memory_id in enumerate(ids):
        memory = found.memories[memory_id]
        fresh = recency(memory, now, weights.half_life_days)
        score = (weights.bm25 * bm25[index] + weights.cosine * cosine[index]
                 + weights.recency * fresh + weights.importance * memory.importance)
        if window is not None and window.contains(memory.when):
            score += weights.time_window
        if memory.kind != "moment":
            score += weights.distilled
        ranked.append(Scored(memory, score, found.bm25.get(memory_id, 0.0),
                             found.cosine[memory_id], fresh, memory.importance))
    ranked.sort(key=lambda s: (-s.score, -s.memory.id))
    return ranked


def _with_neighbours(store: MemoryStore, ranked: list[Scored], found: _Candidates,
                     now: float, weights: Weights) -> list[Scored]:
    """One hop of neighbour expansion: the moment before and the one after each of the
    ``neighbour_hits`` best (moments only) score at least ``neighbour`` times that hit's
    score; a neighbour that was no candidate joins with that score."""
    if weights.neighbour <= 0 or not ranked:
        return ranked
    hits = [s for s in ranked[:weights.neighbour_hits] if s.memory.kind == "moment"]
    adjacent = store.adjacent_moments([s.memory for s in hits])
    if found.cosines is not None:  # one look-up for every neighbour, not one each
        found.cosines.fill(m.id for near in adjacent.values() for m in near)
    by_id = {s.memory.id: s for s in ranked}
    raised: dict[int, Scored] = {}
    for hit in hits:
        share = weights.neighbour * hit.score
        for memory in adjacent.get(hit.memory.id, []):
            current = raised.get(memory.id) or by_id.get(memory.id)
            if current is None:
                cosine = found.cosines[memory.id] if found.cosines is not None else 0.0
                fresh = recency(memory, now, weights.half_life_days)
                raised[memory.id] = Scored(memory, share, 0.0, cosine, fresh,
                                           memory.importance)
            elif share > current.score:
                raised[memory.id] = replace(current, score=share)
    if not raised:
        return ranked
    merged = [raised.get(s.memory.id, s) for s in ranked]
    merged += [s for i, s in raised.items() if i not in by_id]
    merged.sort(key=lambda s: (-s.score, -s.memory.id))
    return merged


class _Cosines:
    """Cosine similarity of ``text`` to the memories recall asks about: the nearest ones
    from the store's vector search, any other candidate looked up as needed (a big store
    holds no vector to compare with every memory)."""

    def __init__(self, store: MemoryStore, text: str) -> None:
        self._store = store
        self._query = store.embedder.embed_query(text)
        self._known: dict[int, float] = {}

    def top(self, n: int) -> list[int]:
        """The ``n`` most similar ids, best first (newer first among equals)."""
        found = self._store.nearest(self._query, n)
        self._known.update(found)
        return [memory_id for memory_id, _ in found]

    def fill(self, memory_ids: Iterable[int]) -> None:
        """Looks up the similarities of these ids in one go (0 for one without a usable
        vector)."""
        missing = {i for i in memory_ids if i not in self._known}
        if missing:
            found = self._store.similarities(self._query, missing)
            self._known.update((i, found.get(i, 0.0)) for i in missing)

    def __getitem__(self, memory_id: int) -> float:
        """The similarity of ``memory_id``; 0 for a memory without a usable vector."""
        if memory_id not in self._known:
            self.fill([memory_id])
        return self._known[memory_id]


def _min_max(values: list[float]) -> list[float]:
    """Scaled to [0, 1]; all-equal values become 1 (or 0 if they are all 0 or less)."""
    if not values:
        return []
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return [1.0 if high > 0 else 0.0 for _ in values]
    return [(v - low) / (high - low) for v in values]


def _scored(memory: Memory, score: float, bm25: float, cosine: float,
            now: float) -> Scored:
    return Scored(memory, score, bm25, cosine, recency(memory, now), memory.importance)


def _in_order(memories: list[Memory], order: list[int]) -> list[Memory]:
    by_id = {m.id: m for m in memories}
    return [by_id[i] for i in order if i in by_id]
