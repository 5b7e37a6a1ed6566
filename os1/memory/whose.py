"""Whose is it: a question about one person, and notes that hold it about another.

Asked "What did Maria donate to the shelter?" with a note that John donated his old car,
the small model answers "her old car": on LoCoMo's adversarial questions, which ask one
person about what another did or said, she never once said she didn't know (category 5:
0.000). The notes are checked in code before she answers: if every note on what he asks
names someone else and none names the person asked about, a line in her notes says so,
and that she says she doesn't know rather than lend one person's life to another.

The small model mostly passes that line over, so her answer is checked too, once it
is written (``lent_answer``): where its words are found most fully, and first, in a note
about someone else, the answer is lent, and she says she doesn't know instead. A note is
about the first person it names (the speaker of "Tim: we watch Home Alone", the subject
of "Anna is a nurse"); a name further on is mostly someone spoken to ("Thanks, Sam!").
On LoCoMo, with its gold and adversarial answers standing in for hers, this caught 63 %
of the adversarial questions and turned away 8 % of the answerable ones, on conversations
0-4 and 5-7 alike (ties going to the person asked instead of the earliest note: 54 % and
6 %). On her own answers (benchmarks/locomo.py, BENCHMARKS 3b) it fired on 5 of 12
adversarial questions and on 8 of 48 answerable ones: her sentences share more words with
the other speaker's echoes than the gold's few words do, and F1 on those fell by 0.06.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from os1.memory.embeddings import content_words
from os1.when.dates import MONTHS, WEEKDAYS

NAME = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
# Capitalised words that open questions and sentences, or name days and months: no one's.
_NOT_NAMES_TEXT = """what when where who whom whose which why how did does do is are was
were can could would will should have has had tell remember i you my your the a an and"""
NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split()) | frozenset(WEEKDAYS) | frozenset(MONTHS)
# Question words that say what kind of answer is wanted, not what it is about.
_ASKING_TEXT = """what when where who whom whose which why how did does do kind type name
often much many long ever"""
ASKING = frozenset(_ASKING_TEXT.split())


def names_in(text: str, also_not: frozenset[str] = frozenset()) -> list[str]:
    return list(dict.fromkeys(w for w in NAME.findall(text)
                              if w.lower() not in NOT_NAMES | also_not))


def someone_else(question: str, notes: Sequence[str],
                 not_asked: Sequence[str] = ()) -> tuple[str, str] | None:
    """(the person asked about, the one the notes hold it about) when every note sharing
    the question's words (a third of them, at least one) names someone else and none
    names that person (the first name in the question: "Porto" after it is a place);
    None otherwise. ``not_asked``: names that are no one asked about (his own, hers)."""
    exempt = frozenset(n.lower() for n in not_asked)
    named = names_in(question, exempt)
    if not named:
        return None
    asked, mentioned = named[0], {n.lower() for n in named}  # the person, then places...
    topic = {w[:5] for w in content_words(question)} - {n[:5] for n in mentioned} - ASKING
    needed = max(1, len(topic) // 3)
    about = [n for n in notes if len(topic & {w[:5] for w in content_words(n)}) >= needed]
    if not about or any(asked.lower() in {w.lower() for w in NAME.findall(n)} for n in about):
        return None
    others = [name for n in about for name in names_in(n, exempt)
              if name.lower() not in mentioned]
    return (asked, others[0]) if others else None


def about_whom(note: str, exempt: frozenset[str] = frozenset()) -> str | None:
    """The person a note is about: the first it names, lowercased."""
    named = names_in(note, exempt)
    return named[0].lower() if named else None


def lent_answer(question: str, answer: str, notes: Sequence[str],
                not_asked: Sequence[str] = ()) -> tuple[str, str] | None:
    """(the person asked about, the one the answer is about) when ``answer`` to
    ``question`` comes from another person's note: of the notes (oldest first) holding at
    least half its words (first five letters), the fullest, and of those the earliest
    (what was said before it was echoed back: "Tim: I'm learning German", then "John:
    Impressive you're learning German"), is about someone else. None when nobody is
    asked about, the answer has no word of substance, or no note holds it (an answer
    from nowhere is another check's)."""
    exempt = frozenset(n.lower() for n in not_asked)
    named = names_in(question, exempt)
    if not named:
        return None
    asked, mentioned = named[0].lower(), {n.lower()[:5] for n in named}
    wanted = {w[:5] for w in content_words(answer)} - mentioned
    if not wanted:
        return None
    held = [len(wanted & {w[:5] for w in content_words(n)}) for n in notes]
    fullest = max(held, default=0)
    if fullest < max(1, round(len(wanted) / 2)):
        return None
    source = next(n for n, count in zip(notes, held, strict=True) if count == fullest)
    owner = about_whom(source, exempt)
    if owner is None or owner == asked:
        return None
    return named[0], names_in(source, exempt)[0]
