"""What the conversation draws on from her long-term memory, and how "forget that" works.

The companion asks three things of it each turn: which memories to put in front of the
message (``notes_for``), how she feels (``feel``), and, when the user asks her to forget,
to forget thoroughly (``forget_previous``, or ``forget_about`` when they say what): the
messages are blanked in the log, and every memory drawn from them goes with its embedding
and every insight derived from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from os1.data import read_toml
from os1.memory.embeddings import STOPWORDS, Embedder, stem, words
from os1.memory.memories import MemoryStore
from os1.memory.notes import recalled_for, select_notes
from os1.memory.records import Memory
from os1.memory.retrieval import ABOUT_HIM, DEFAULT_WEIGHTS, Scored, recall, recall_of_kinds
from os1.memory.selfmodel import SelfHistory
from os1.memory.shared_self import SHARED_SELF
from os1.mind.mood import MoodKeeper, MoodState
from os1.mind.perspective import asks_about_himself
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.when.gaps import DAY, HOUR, describe_gap

NOTE_TOKENS = 400
RECALL_K = 12
THREAD_KINDS = ("insight", "self", "event", "promise", "feeling")



@cache
def _forget_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """"forget that" and "forget that my ...", from data/her_intents.toml."""
    data = read_toml("her_intents.toml")

    def pattern(key: str) -> re.Pattern[str]:
        text = str(data[key]).replace("{lead}", str(data["lead"]))
        return re.compile(text.replace("{last}", str(data["last"])),
                          re.IGNORECASE | re.DOTALL)

    return pattern("forget_last"), pattern("forget_about")


# How many of the user's newest messages a "forget that my ..." looks through directly
# (older ones are moments in the store by then, and are found there).
_LOG_REACH = 500


def forget_target(text: str) -> str | None:
    """What a forget request is about: "" for what was just said ("forget that", "please
    forget what I just said", "can you erase that?"), else the words naming it ("forget
    that my sister teaches piano"); None for a message that is no forget request (one
    that merely contains the words, or a long one)."""
    if len(text) > 200:
        return None
    forget_last, forget_about = _forget_patterns()
    if forget_last.match(text):
        return ""
    about = forget_about.match(text)
    if about is None:
        return None
    what = about.group("what").strip(" .!?")
    return what if _keys(what) else ""


def _keys(text: str) -> set[str]:
    """The stemmed words of ``text`` that say what it is about (none if all are common)."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def _names_all(text: str, keys: set[str]) -> bool:
    """Every key word of the request is in ``text``, or all but one of four or more."""
    found = len(keys & _keys(text))
    return found == len(keys) or (len(keys) >= 4 and found >= len(keys) - 1)


@dataclass(frozen=True)
class Forgotten:
    messages: int
    memories: int


class Recollection:
    def __init__(self, db: Database, user_id: str, embedder: Embedder,
                 clock: Callable[[], float], shared_self: bool = False) -> None:
        """``shared_self``: her self is the one she has with everyone (a server's)."""
        self.store = MemoryStore(db, user_id, embedder)
        self.log = ConversationLog(db, user_id)
        self.mood = MoodKeeper(db, user_id, clock)
        self.selves = SelfHistory(db, SHARED_SELF if shared_self else user_id, clock)

    def notes_for(self, text: str, now: float, in_prompt_from: int,
                  count_tokens: Callable[[str], int], not_asked: Sequence[str] = ()) -> str:
        """Her notes for ``text``: recalled memories within the budget, oldest first, and
        a line when they hold what he asks about one person about another (``not_asked``:
        his name and hers). Moments already in the prompt's history (ids from
        ``in_prompt_from``) are left out: she can see those messages anyway."""
        scored = self._recalled(text, now, in_prompt_from)
        return recalled_for(text, select_notes(scored, NOTE_TOKENS, now, count_tokens), now,
                            not_asked)

    def nearest_notes(self, text: str, kinds: Sequence[str], k: int) -> list[str]:
        """What she concluded of these ``kinds`` nearest in meaning to ``text``, nearest
        first: the notes that may answer his question about himself (told_me.py)."""
        return [s.memory.content for s in recall_of_kinds(self.store, text, kinds, k)]

    def _recalled(self, text: str, now: float, in_prompt_from: int) -> list[Scored]:
        # Recalled beyond k, then the moments already in the prompt left out: a morning
        # after 40 new messages filled all 12 places with moments she could already see,
        # and "What do I do for a living?" got no note of his job. A question about his
        # own life is answered first from what she concluded about him.
        about_him = asks_about_himself(text)
        found = recall(self.store, text, k=RECALL_K * 4, now=now,
                       weights=ABOUT_HIM if about_him else DEFAULT_WEIGHTS)
        return [s for s in found if not _in_prompt(s, in_prompt_from)][:RECALL_K]

    def feel(self, text: str, message_id: int, at: float) -> MoodState:
        return self.mood.feel(text, message_id=message_id, at=at)

    def forget_previous(self, request_id: int) -> Forgotten:
        """Forget the user's message before the "forget that" at ``request_id`` and her
        replies to it."""
        before = self.log.before(request_id, 12)
        targets: list[int] = []
        for message in reversed(before):
            targets.append(message.id)
            if message.role == "user":
                break
        if not targets:
            return Forgotten(0, 0)
        removed = 0
        for memory in self.store.from_messages(targets):
            if _exists(self.store, memory):
                removed += self.store.forget(memory.id)
        return Forgotten(self.log.forget(targets), removed)

    def forget_about(self, request_id: int, what: str) -> Forgotten:
        """Forget what the user said about ``what`` ("forget that my sister teaches
        piano"): every message of theirs, and every memory, naming all its key words,
        with her replies to those messages and all drawn from them; the request itself is
        blanked too, since it says the thing again."""
        keys = _keys(what)
        said = [m for m in self.log.before(request_id, _LOG_REACH)
                if m.role == "user" and _names_all(m.content, keys)]
        found = [m for m, _ in self.store.text_search(sorted(keys), 200)
                 if m.kind != "self" and _names_all(m.content, keys)]
        sources = {s for m in found for s in m.sources} | {m.id for m in said}
        targets = [*self._with_replies(sorted(sources)), request_id]
        doomed = {m.id: m for m in [*found, *self.store.from_messages(targets)]}
        removed = sum(self.store.forget(m.id) for m in doomed.values()
                      if _exists(self.store, m))
        return Forgotten(self.log.forget(targets) - 1, removed)

    def _with_replies(self, user_message_ids: list[int]) -> list[int]:
        """These messages and her replies to each (what follows until the user's next)."""
        targets: list[int] = []
        for message_id in user_message_ids:
            targets.append(message_id)
            for after in self.log.after(message_id, 4):
                if after.role == "user":
                    break
                targets.append(after.id)
        return targets

    def thread(self, now: float) -> tuple[str, str] | None:
        """Something from before worth bringing up unprompted: the most important recent
        insight, event, promise or feeling (from the last two weeks, not the last hour),
        with when it was, in words."""
        candidates = [m for m in self.store.active(limit=300)
                      if m.kind in THREAD_KINDS and HOUR <= now - m.created_at <= 14 * DAY]
        if not candidates:
            return None
        best = max(candidates, key=lambda m: (m.importance, m.created_at))
        return best.content, f"{describe_gap(now - best.created_at)} ago"


def _in_prompt(scored: Scored, first_id: int) -> bool:
    memory = scored.memory
    return memory.kind == "moment" and bool(memory.sources) \
        and min(memory.sources) >= first_id


def _exists(store: MemoryStore, memory: Memory) -> bool:
    """An earlier ``forget`` in the loop may already have taken it (same chain)."""
    return bool(store.get_many([memory.id]))
