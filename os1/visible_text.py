"""Strangers' text as plain visible text: what a mail, an event or a page says, without
the characters that act instead of being read.

Found by attack (issue 25): a mail's escape sequences, read out in ``os1 chat``, cleared
the screen, set the window title and printed a fake "Sent to x@evil.example." as if she
had said it; bidi overrides and zero-width characters reorder or hide words from him
while the model reads them. Controls (C0 and C1, escape included) go, except line breaks
and tabs; so do the bidi embeddings, overrides and isolates and the zero-width spaces.
The zero-width joiner stays: it builds emoji ("👩‍💻"), hides nothing, and reorders nothing.
Cleaning is per character, so a stream cut anywhere is cleaned the same.
"""

from __future__ import annotations

import re

KEPT_CONTROLS = "\n\t"
INVISIBLE = (
    "\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\u180e\u00ad"
)
_ACTING = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{INVISIBLE}]")


def visible(text: str) -> str:
    """``text`` without controls or invisible characters ("\\r\\n" becomes "\\n")."""
    return _ACTING.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
