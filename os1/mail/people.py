""""Read me the one from my sister": who the user means by a relation is something she
remembers ("Theo's sister Amy lives in Boston"), not something in the mail. The newest
active memory that names the relation with a name beside it answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from os1.memory.records import Memory

RELATIONS = (
    "sister", "brother", "mother", "mom", "mum", "father", "dad", "wife", "husband",
    "partner", "girlfriend", "boyfriend", "son", "daughter", "boss", "manager", "landlord",
    "landlady", "friend", "best friend", "aunt", "uncle", "cousin", "grandmother", "grandma",
    "grandfather", "grandpa", "colleague", "doctor", "lawyer", "neighbour", "neighbor",
    "ex-wife", "ex-husband", "accountant", "therapist", "teacher",
)
_NAME = r"(?P<name>[A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?)"
_OWNER = r"(?:[Mm]y|[Hh]is|[Hh]er|[Tt]heir|[A-Z][\w'-]*['’]s)"

Search = Callable[[Sequence[str], int], list[tuple[Memory, float]]]


def name_in(relation: str, text: str) -> str:
    """The name ``text`` gives the relation: "Theo's sister Amy", "his sister, Amy",
    "Amy, his sister", "Amy is Theo's sister"; '' if none."""
    rel = re.escape(relation)
    for pattern in (rf"\b{_OWNER} {rel},? {_NAME}", rf"\b{_NAME},? (?:is |who is )?"
                    rf"{_OWNER} {rel}\b"):
        for match in re.finditer(pattern, text):
            return match.group("name")
    return ""


class People:
    """``people("sister")`` -> "Amy" if she remembers the user's sister's name, else ''."""

    def __init__(self, search: Search) -> None:
        self._search = search

    def __call__(self, who: str) -> str:
        relation = who.strip().lower()
        if relation not in RELATIONS:
            return ""
        found = [m for m, _ in self._search([relation.split()[-1]], 30) if m.active]
        for memory in sorted(found, key=lambda m: m.created_at, reverse=True):
            if name := name_in(relation, memory.content):
                return name
        return ""
