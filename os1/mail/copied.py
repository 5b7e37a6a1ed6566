"""Words a draft took from someone else's mail, found by code after the model writes.

Found by attack (issue 25): a small model shown a mail copies from it, and in 3 of 6
drafts a stranger's "P.S. my password is hunter2" replaced what the user asked to say.
Whatever the prompt says, the model may still copy, so the check is outside it: a run
of ``RUN_WORDS`` words that the draft shares with another mail, and that is not in what
the user asked to say, is text he did not ask for, and the sentence holding it is left
out. The mail being answered may be echoed ("dinner on Friday at eight"), as replies
do; only a passage of ``ANSWERED_RUN_WORDS`` words or more copied from it is left out.
A phrase the user's own sent mail repeats (his usual sign-off) is his style, not a copy;
one that ``STOCK_MAILS`` or more of his other mails hold ("let me know if you have any
questions") is everyone's, and a draft that happens to use it keeps it.

Words are compared by letters and digits only, case-folded and NFKC-normalised, so
punctuation, spacing, case and full-width look-alikes hide no copy.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from os1.visible_text import visible

RUN_WORDS = 6
ANSWERED_RUN_WORDS = 10
STOCK_MAILS = 3
_WORD = re.compile(r"\w+")
# a sentence ends at a line break, or after . ! ? (and closing quotes) before a space
_SENTENCE_END = re.compile(r"\n|[.!?]+[\"')\]]*(?=\s)")

Run = tuple[str, ...]


@dataclass(frozen=True)
class Checked:
    """The draft without what it copied; ``dropped``: the sentences left out."""

    text: str
    dropped: tuple[str, ...]
    words: int  # how many words the draft had before
    kept_words: int


def words(text: str) -> list[str]:
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def runs(text: str, n: int) -> set[Run]:
    found = words(text)
    return {tuple(found[i:i + n]) for i in range(len(found) - n + 1)}


def _held(text: str, n: int, wanted: set[Run], starts: set[str]) -> set[Run]:
    """Which of ``wanted`` (runs of ``n`` words, beginning with one of ``starts``)
    ``text`` holds: only the places where such a run could begin are looked at."""
    found = words(text)
    return {run for i, word in enumerate(found[:len(found) - n + 1]) if word in starts
            and (run := tuple(found[i:i + n])) in wanted}


def without_copied(draft: str, wish: str, answered: str = "", own: Sequence[str] = (),
                   others: Iterable[str] = ()) -> Checked:
    """``draft`` without the sentences that copy a run of words from ``own`` (the
    user's sent mail shown as his style; a run found in two of them is his habit and
    stays) or ``others`` (a run found in ``STOCK_MAILS`` of them is a stock phrase and
    stays), or a long passage from ``answered``; a run also in ``wish`` stays."""
    draft = visible(draft)
    spans = [(m.start(), m.group()) for m in _WORD.finditer(draft)]
    found = [unicodedata.normalize("NFKC", w).casefold() for _, w in spans]
    allowed = runs(wish, RUN_WORDS) | _habits(own)
    copied = _copied(found, RUN_WORDS, own, allowed)
    copied |= _copied(found, RUN_WORDS, others, allowed, stock=STOCK_MAILS)
    copied |= _copied(found, ANSWERED_RUN_WORDS, [answered], runs(wish, ANSWERED_RUN_WORDS))
    marked = {spans[i][0] for i in copied}
    kept, dropped = [], []
    for sentence, start in _sentences(draft):
        end = start + len(sentence)
        if not any(start <= at < end for at in marked):
            kept.append(sentence)
            continue
        dropped.append(" ".join(sentence.split()))
        kept.append("\n" if sentence.endswith("\n") else "")  # the line stays a line
    text = _tidy("".join(kept)) if dropped else draft
    return Checked(text, tuple(dropped), len(found), len(_WORD.findall(text)))


def _copied(found: list[str], n: int, sources: Iterable[str], allowed: set[Run],
            stock: int | None = None) -> set[int]:
    """Positions in ``found`` covered by a run of ``n`` words that a source holds (and,
    given ``stock``, fewer than that many sources do)."""
    wanted = {tuple(found[i:i + n]) for i in range(len(found) - n + 1)} - allowed
    if not wanted:
        return set()
    starts = {run[0] for run in wanted}
    holders: Counter[Run] = Counter()
    for source in sources:
        holders.update(_held(source, n, wanted, starts))
    held = {run for run, count in holders.items() if stock is None or count < stock}
    return {i + k for i in range(len(found) - n + 1)
            if tuple(found[i:i + n]) in held for k in range(n)}


def _habits(own: Sequence[str]) -> set[Run]:
    """Runs that at least two of the user's own mails hold: how he writes, not what."""
    counts = Counter(run for text in own for run in runs(text, RUN_WORDS))
    return {run for run, count in counts.items() if count >= 2}


def _sentences(text: str) -> list[tuple[str, int]]:
    """``text`` cut into sentences (each with its trailing break or space), with where
    each starts; joined again they are ``text``."""
    out: list[tuple[str, int]] = []
    start = 0
    for end in _SENTENCE_END.finditer(text):
        out.append((text[start:end.end()], start))
        start = end.end()
    if start < len(text):
        out.append((text[start:], start))
    return out


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    tidy = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    return re.sub(r"[ \t]{2,}", " ", tidy).strip()
