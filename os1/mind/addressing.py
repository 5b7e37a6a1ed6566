"""Not calling him by someone else's name.

Told "My sister Ana lives in Porto", the small model often answers "Hey Ana!": it takes a
name in the message for the speaker's. The guard (steering.py) asks for another reply when
one opens by addressing someone the user only mentioned, or ends a sentence with that name
after a comma ("That's great news, Marcus!"); on its last try it drops the name instead.

Names are the capitalised words of the user's message, less his own name and the words
that open sentences anyway ("Sometimes", "Guess"), listed in steering.toml.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)?\b")
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
        self._opening = re.compile(
            rf"\A[\s\"“]*(?:{LEAD}\b[\s,!.]*)*(?:{alternatives})\b"
            rf"(?:\s*[,!]|\.(?=\s))(?!\s*(?i:your|my|his|her|the|who|whose|a|an)\b)\s*"
        ) if names else None
        self._closing = re.compile(rf",\s*(?:{alternatives})(?=\s*[!.?])") if names else None

    def find(self, text: str) -> re.Match[str] | None:
        if self._opening is None or self._closing is None:
            return None
        return self._opening.search(text) or self._closing.search(text)

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
