"""One understanding of yes and no for every skill: before it, mail and calendar each had
their own and disagreed ("please" confirmed an event but not a mail). The words are data
(``data/replies.toml``)."""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from os1.data import read_toml

Reply = Literal["yes", "no"]


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], int]:
    words = read_toml("replies.toml")

    def opening(phrases: list[str]) -> re.Pattern[str]:
        ordered = sorted(phrases, key=len, reverse=True)
        return re.compile(r"^\s*(?:" + "|".join(re.escape(p) for p in ordered) + r")\b",
                          re.IGNORECASE)

    negation = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words["negations"])
                          + r")\b", re.IGNORECASE)
    return opening(words["yes"]), opening(words["no"]), negation, int(words["tail_chars"])


def understood(text: str) -> Reply | None:
    """"yes", "no", or None when ``text`` is something else (a new request, a question)."""
    yes, no, negation, tail_chars = _patterns()
    if no.match(text):
        return "no"
    found = yes.match(text)
    if found is None:
        return None
    tail = text[found.end():].strip()
    if len(tail) > tail_chars or not re.fullmatch(r"[\w\s,.!'’-]*", tail):
        return None
    return None if negation.search(tail) else "yes"
