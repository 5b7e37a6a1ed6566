"""His spoken answers to her suggestions on a letter: "accept 1 and 3", "take the
spelling ones, skip the rest", "all of them", "none".

Why a parser of its own and not the model: an answer changes his letter, so it must be
read exactly; a turn it can't read is left to the conversation, and the suggestions wait.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from os1.letters.records import EDIT_KINDS

Verb = Literal["accepted", "rejected"]

_YES = r"accept|take|use|apply|make|keep|yes(?:,)? (?:to|for)|go with|ok(?:ay)?(?: to)?"
_NO = r"reject|skip|drop|ignore|leave(?: out)?|no(?:,)? (?:to|for)|not|don'?t (?:take|use|make)"
_KINDS = "|".join(re.escape(k) for k in EDIT_KINDS)
_NUMBERS = r"\d+(?:(?:\s*,\s*|\s+and\s+|\s*&\s*|\s+)\d+)*"
_TARGET = (rf"(?P<all>all(?: of them)?|them all|everything|every one|the rest|the others|"
           rf"(?:all )?the (?P<kind>{_KINDS})(?: ones| suggestions| fixes| changes)?|"
           rf"(?:numbers? |suggestions? |#)?(?P<numbers>{_NUMBERS}))")
_CLAUSE = re.compile(rf"\b(?:(?P<yes>{_YES})|(?P<no>{_NO}))\s+(?:the )?{_TARGET}\b",
                     re.IGNORECASE)
_NONE = re.compile(r"^\s*(?:none(?: of them)?|neither|no thanks?|nothing)\s*[.!]*\s*$",
                   re.IGNORECASE)
_ALL = re.compile(r"^\s*(?:(?:yes|yeah|sure|ok(?:ay)?),?\s*)?(?:all of them|them all|all|"
                  r"every one|everything)(?: please)?\s*[.!]*\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Answer:
    """One decision: on ``numbers``, or all of ``kind``, or (neither) every one left."""

    verb: Verb
    numbers: tuple[int, ...] = ()
    kind: str | None = None


def answers(text: str) -> list[Answer]:
    """His decisions in ``text``, in the order he said them ([] if it holds none)."""
    if _NONE.match(text):
        return [Answer("rejected")]
    if _ALL.match(text):
        return [Answer("accepted")]
    found = []
    for clause in _CLAUSE.finditer(text):
        verb: Verb = "accepted" if clause.group("yes") else "rejected"
        numbers = tuple(int(n) for n in re.findall(r"\d+", clause.group("numbers") or ""))
        found.append(Answer(verb, numbers, clause.group("kind")))
    return found
