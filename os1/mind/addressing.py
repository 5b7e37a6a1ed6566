"""Not calling him by someone else's name.

Told "My sister Ana lives in Porto", the small model often answers "Hey Ana!": it takes a
name in the message for the speaker's. The guard (steering.py) asks for another reply when
one opens by addressing someone the user only mentioned, or ends a sentence with that name
after a comma ("That's great news, Marcus!"); on its last try it drops the name instead.
A later sentence that does it ends her reply just before it.

Names are the capitalised words of the user's message, less his own name and the words
that open sentences anyway ("Sometimes", "Guess"), listed in steering.toml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
NEVER = re.compile(r"(?!)")  # the pattern of no names
LEAD = r"(?i:oh|well|wow|aw+|ah+|hey|hi|hello|dear|yes|no|sorry|great|so|there)"


def others_named(said: str, exempt: Iterable[str], not_names: frozenset[str]) -> list[str]:
    """The names in ``said`` that belong to someone other than the speaker (``exempt``:
    his own)."""
    skip = {e.lower() for e in exempt} | not_names
    found = dict.fromkeys(w for w in CAPITALISED.findall(said)
                          if w.lower() not in skip and not w.lower().endswith("ly"))
    return list(found)


class Addressing:
    """Finds a reply addressing one of ``names``."""

    def __init__(self, names: Sequence[str]) -> None:
        alternatives = "|".join(re.escape(n) for n in names)
        # after a comma, the next word must have arrived: "Ana, your sister..." is not
        # addressing her, and the stream may have brought only "Ana, " so far
        vocative = (rf"(?:{LEAD}\b[\s,!.]*)*(?:{alternatives})\b"
                    rf"(?:\s*,(?=\s*\w+\W)|\s*!|\.(?=\s))"
                    rf"(?!\s*(?i:your|my|his|her|the|who|whose|a|an)\b)\s*")
        self._opening = re.compile(rf"\A[\s\"“]*{vocative}") if names else NEVER
        self._later = re.compile(rf"(?<=[.!?…])[\"”’)]*\s+[\"“]*(?={vocative})") \
            if names else NEVER
        self._closing = re.compile(rf",\s*(?:{alternatives})(?=\s*[!.?])") if names else NEVER

    def find(self, text: str) -> re.Match[str] | None:
        return self._opening.search(text) or self._closing.search(text)

    def find_later(self, text: str, start: int) -> int | None:
        """Where a sentence after ``start`` begins that addresses one of the names (or
        where one ends with a name after a comma): the guard ends her reply before it."""
        found = []
        if later := self._later.search(text, start):
            found.append(later.end())
        if closing := self._closing.search(text, start):
            found.append(closing.start())
        return min(found, default=None)

    def without(self, text: str) -> str:
        """``text`` with the misplaced names taken out ("Hey Ana! How is she?" → "How is
        she?", "Great news, Marcus!" → "Great news!")."""
        while (found := self.find(text)) is not None:
            rest = text[found.end():]
            if found.start() == 0:
                text = text[:len(text) - len(text.lstrip())] + rest[:1].upper() + rest[1:]
            else:
                text = text[:found.start()] + rest
        return text
