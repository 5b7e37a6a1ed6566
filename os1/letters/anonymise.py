"""The people his letters were for, made unrecognisable in a book: each becomes a capital
letter with a full stop, given in the order they first appear ("For A.", "Dear A.,",
"B.'s garden"), the old convention of printed letters.

Why letters in order and not their initials: an initial is half a name, and with a town
or a date it is often all of it. Why each part of a name is replaced too ("Amelia" and
"Hart" as well as "Amelia Hart"): a letter calls her Amelia, not by her full name. Matches
are whole words and case-sensitive, so "amelia" in lower case or "Hartley" are left alone;
courtesy titles ("Mrs", "Dr", "Aunt") are left standing, as they name no one.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

TITLES = frozenset({
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Sir", "Dame", "Lady",
    "Lord", "Rev", "Revd", "Father", "Sister", "Brother", "Aunt", "Auntie", "Uncle",
    "Grandma", "Grandpa", "Granny", "Nana", "St", "Saint", "Captain", "Capt",
})


def pseudonym(index: int) -> str:
    """A., B., ... Z., then AA., BB., ... for a book of more than 26 people."""
    letters = string.ascii_uppercase
    return letters[index % 26] * (index // 26 + 1) + "."


def name_parts(name: str) -> list[str]:
    """What a letter may call ``name``: the whole name, each word of it and each half of a
    hyphenated word, without courtesy titles or lower-case particles ("van", "de")."""
    parts = [name]
    for word in name.split():
        bare = word.strip(".,;:")
        for part in [bare, *bare.split("-")] if "-" in bare else [bare]:
            if len(part) > 1 and part[0].isupper() and part not in TITLES:
                parts.append(part)
    return parts


class Anonymiser:
    """Replaces the names of the given people, the same person always by the same letter.
    An empty list of names makes it return every text as it was."""

    def __init__(self, names: Iterable[str]) -> None:
        self.pseudonyms: dict[str, str] = {}
        self._replacement: dict[str, str] = {}
        for name in (n.strip() for n in names):
            if not name or name in self.pseudonyms:
                continue
            self.pseudonyms[name] = pseudonym(len(self.pseudonyms))
            for part in name_parts(name):
                self._replacement.setdefault(part, self.pseudonyms[name])
        keys = sorted(self._replacement, key=len, reverse=True)  # "Amelia Hart" before "Amelia"
        self._pattern = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, keys)) + r")(?!\w)")
                         if keys else None)

    def __call__(self, text: str) -> str:
        if self._pattern is None:
            return text
        return self._pattern.sub(self._substitute, text)

    def _substitute(self, match: re.Match[str]) -> str:
        replacement = self._replacement[match.group()]
        following = match.string[match.end():match.end() + 1]
        # "I wrote to Amelia." gives "to A." and not "to A.."
        return replacement[:-1] if following == "." else replacement
