"""Whether her reply opens with his message said back to him word for word (a parrot,
not a friend). The guard (steering.py) holds her opening back while it may still turn
out to be an echo, and asks again when it is one.
"""

from __future__ import annotations

import re

WORD = re.compile(r"\S+")
ECHO_WORDS = 8


def echoes(text: str, said: str, words: int = ECHO_WORDS) -> bool:
    """``text`` opens with the first ``words`` words of ``said`` (all of a message of six
    or seven), case aside. Shorter messages are left alone: "I love you so much" may
    well be answered "I love you so much too"."""
    mine, theirs = WORD.findall(text.lower()), WORD.findall(said.lower())
    needed = min(words, len(theirs))
    return needed >= 6 and mine[:needed] == theirs[:needed]


def may_echo(text: str, said: str, words: int = ECHO_WORDS) -> bool:
    """``text`` is so far the start of ``said``, too short yet to tell (see ``echoes``)."""
    mine, theirs = WORD.findall(text.lower()), WORD.findall(said.lower())
    needed = min(words, len(theirs))
    return needed >= 6 and len(mine) < needed and mine == theirs[: len(mine)]
