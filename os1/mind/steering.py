"""Keeping her in character: a logit bias against assistant-speak, a detector for replies
that slipped anyway, and a streaming guard that regenerates or cuts such replies.

Why a guard on the stream rather than a check afterwards: replies are shown as they are
generated, so an off-persona opening ("As an AI language model...") has to be caught
before it reaches the screen. The guard holds back the last few words (a short lookbehind
so that a phrase split across tokens is seen whole) and releases the rest as it comes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass

from os1.data import read_toml
from os1.mind.addressing import Addressing
from os1.mind.spoken import Repair

SENTENCE_END = re.compile(r"[.!?…](?=\s|$)")
# A sentence end that is certainly one: punctuation, closing quotes, then a space.
COMPLETE_SENTENCE = re.compile(r"[.!?…][\"”’)]*(?=\s)")
WORD = re.compile(r"\S+")
ECHO_WORDS = 8
CLAUSE_END = re.compile(r"[,;:—–](?=\s)")
# "1." opening a numbered list is not a first sentence to let out.
LIST_NUMBER = re.compile(r"\s*\d{1,2}[.)]")


@dataclass(frozen=True)
class Steering:
    version: int
    bias: dict[str, float]
    patterns: dict[str, str]
    max_sentences: int
    asks_for_more: str
    spoken_first_clause_words: int
    repair: Repair
    not_names: frozenset[str] = frozenset()

    @classmethod
    def load(cls) -> Steering:
        data = read_toml("steering.toml")
        return cls(
            version=int(data["version"]),
            bias={str(k): float(v) for k, v in data["bias"].items()},
            patterns={str(k): str(v) for k, v in data["detect"].items()},
            max_sentences=int(data["brevity"]["max_sentences"]),
            asks_for_more=str(data["brevity"]["unless"]),
            spoken_first_clause_words=int(data["brevity"]["spoken_first_clause_words"]),
            not_names=frozenset(str(w).lower() for w in data["addressing"]["not_names"]),
            repair=Repair.from_patterns(str(data["repair"]["opener"]),
                                        str(data["repair"]["lead_in"]),
                                        (str(label) for label in data["repair"]["spare"])),
        )

    def sentence_limit(self, message: str) -> int | None:
        """How many sentences a reply to ``message`` may have (None: as many as needed)."""
        if re.search(self.asks_for_more, message, re.IGNORECASE):
            return None
        return self.max_sentences

    def detector(self, name: str, user_name: str = "") -> OffPersonaDetector:
        return OffPersonaDetector(self.patterns, name, user_name)


class OffPersonaDetector:
    """Finds assistant-speak, markup and third-person self-reference in a reply."""

    def __init__(self, patterns: dict[str, str], name: str, user_name: str = "") -> None:
        """``{name}`` in a pattern stands for hers, ``{user}`` for his."""
        flags = re.IGNORECASE | re.MULTILINE
        never = r"\b\B"
        self._patterns = {
            label: re.compile(pattern.replace("{name}", re.escape(name) if name else never)
                              .replace("{user}", re.escape(user_name) if user_name else never),
                              flags)
            for label, pattern in patterns.items()
        }

    def labels(self, text: str, skip: Collection[str] = ()) -> list[str]:
        text = _plain_quotes(text)
        return [label for label, p in self._patterns.items()
                if label not in skip and p.search(text)]

    def first_match_start(self, text: str, skip: Collection[str] = ()) -> int | None:
        text = _plain_quotes(text)
        starts = [m.start() for label, p in self._patterns.items()
                  if label not in skip and (m := p.search(text))]
        return min(starts) if starts else None


def _plain_quotes(text: str) -> str:
    """Typographic apostrophes as plain ones (same length, so positions still hold)."""
    return text.replace("\u2019", "'").replace("\u2018", "'")


@dataclass
class GuardReport:
    """What the guard did to the last reply, for logs and the benchmark."""

    attempts: int = 0
    cut: bool = False
    capped: bool = False
    labels: tuple[str, ...] = ()


def guarded_stream(
    generate: Callable[[int], Iterator[str]],
    detector: OffPersonaDetector,
    report: GuardReport,
    max_attempts: int = 3,
    lookbehind_words: int = 6,
    max_sentences: int | None = None,
    first_clause_words: int | None = None,
    echo_of: str = "",
    addressing: Addressing | None = None,
    repair: Repair | None = None,
) -> Iterator[str]:
    """Yield a reply, regenerating (``generate(attempt)``) while an off-persona phrase
    appears before anything was shown. The first sentence is held back whole (that is
    where "As an AI..." and "Sure! Here are..." live); after it, text streams with a
    lookbehind of a few words, and a later slip ends the reply at the last sentence end
    before it. With ``max_sentences`` the reply also ends after that many sentences.
    With ``first_clause_words`` (speech, where every ms before her voice counts) a first
    clause of at least that many words is let out before its sentence ends. A reply that
    opens by repeating ``echo_of`` (the user's message) word for word is a slip too: the
    small model sometimes parrots a statement back instead of answering it. So is a first
    sentence that ``addressing`` finds calling him by someone else's name; on the last try
    the name is dropped instead (a later sentence doing so ends the reply before it).
    With ``repair``, an opening "Sure," is dropped rather than asked again over, and the
    last try is read as speech, without markup."""
    def shown(piece: str) -> str:
        """``piece`` as shown: the first text loses a misplaced name (only the last try
        can have one)."""
        return addressing.without(piece).lstrip() if addressing and not released else piece

    for attempt in range(max_attempts):
        report.attempts = attempt + 1
        may_retry = attempt < max_attempts - 1
        raw = stream = generate(attempt)
        if repair is not None:
            stream = repair.without_opener(raw if may_retry else repair.spoken(raw))
        released = ""
        first_end = 0  # where her first sentence, as shown, ends
        held = ""
        try:
            for piece in stream:
                held += piece
                text = released + held
                slip = _slip(text, released, first_end, detector, echo_of,
                             addressing if may_retry or released else None,
                             () if may_retry or repair is None else repair.spare)
                if slip is not None:
                    report.labels = slip[1]
                    if not released and may_retry:
                        break  # regenerate: nothing shown yet
                    report.cut = True
                    yield shown(_ending_before(text, slip[0], len(released)))
                    return
                limit = _sentence_limit_end(text, max_sentences)
                if limit is not None:
                    report.capped = True
                    yield shown(text[len(released):limit])
                    return
                ready = _releasable(held, lookbehind_words, first=not released,
                                    first_clause_words=first_clause_words)
                if ready:
                    held = held[len(ready):]
                    ready = shown(ready)
                    released += ready
                    first_end = first_end or len(released)
                    if ready:
                        yield ready
            else:
                if held:
                    yield shown(held)
                return
        finally:
            for opened in (stream, raw):
                close = getattr(opened, "close", None)
                if close is not None:
                    close()


def _slip(text: str, released: str, first_end: int, detector: OffPersonaDetector,
          echo_of: str, addressing: Addressing | None,
          spared: Collection[str]) -> tuple[int, tuple[str, ...]] | None:
    """Where ``text`` (``released`` of it shown) slips, and why; None if it doesn't.
    ``spared``: detector labels that don't count."""
    start = detector.first_match_start(text, spared)
    if start is not None:
        return start, tuple(detector.labels(text, spared))
    if not released and echoes(text, echo_of):
        return 0, ("echo",)
    if addressing is None:
        return None
    if not released:
        return (0, ("misaddress",)) if addressing.find(text) else None
    later = addressing.find_later(text, first_end)
    return (later, ("misaddress",)) if later is not None else None


def echoes(text: str, said: str, words: int = ECHO_WORDS) -> bool:
    """``text`` opens with the first ``words`` words of ``said`` (all of a message of six
    or seven), case aside. Shorter messages are left alone: "I love you so much" may
    well be answered "I love you so much too"."""
    mine, theirs = WORD.findall(text.lower()), WORD.findall(said.lower())
    needed = min(words, len(theirs))
    return needed >= 6 and mine[:needed] == theirs[:needed]


def _sentence_limit_end(text: str, max_sentences: int | None) -> int | None:
    if max_sentences is None:
        return None
    ends = [m.end() for m in COMPLETE_SENTENCE.finditer(text)]
    return ends[max_sentences - 1] if len(ends) >= max_sentences else None


def _releasable(held: str, lookbehind_words: int, first: bool,
                first_clause_words: int | None = None) -> str:
    """The part of ``held`` that can be shown: the whole first sentence once it is
    complete (or its first clause, if long enough and allowed), later all but the last
    few words."""
    if first:
        match = COMPLETE_SENTENCE.search(held)
        if match and not LIST_NUMBER.fullmatch(held[: match.end()]):
            return held[: match.end()]
        if first_clause_words is not None:
            clauses = [c.end() for c in CLAUSE_END.finditer(held)
                       if len(WORD.findall(held[:c.start()])) >= first_clause_words]
            return held[: clauses[0]] if clauses else ""
        return ""
    starts = [m.start() for m in WORD.finditer(held)]
    if len(starts) <= lookbehind_words:
        return ""
    return held[: starts[-lookbehind_words]]


def _ending_before(text: str, violation_start: int, shown: int) -> str:
    """Unshown text up to the last sentence end before the violation; if the shown text
    stops mid-sentence, she trails off with an ellipsis rather than breaking off."""
    ends = [m.end() for m in SENTENCE_END.finditer(text, 0, violation_start)]
    cut = max(ends, default=shown)
    if cut > shown:
        return text[shown:cut]
    return "…" if shown and not SENTENCE_END.search(text[:shown].rstrip()[-1:]) else ""
