"""Strangers' text as plain visible text: what a mail, an event or a page says, without
the characters that act instead of being read.

Found by attack (issue 25): a mail's escape sequences, read out in ``os1 chat``, cleared
the screen, set the window title and printed a fake "Sent to x@evil.example." as if she
had said it; bidi overrides and zero-width characters reorder or hide words from him
while the model reads them. Controls (C0 and C1, escape included) go, except line breaks
and tabs; so does every format character (bidi embeddings, overrides and isolates,
zero-width spaces, tag characters).
The zero-width joiner stays: it builds emoji ("👩‍💻"), hides nothing, and reorders nothing.
Cleaning is per character, so a stream cut anywhere is cleaned the same.
"""

from __future__ import annotations

import unicodedata

KEPT = frozenset("\n\t\u200d")  # line breaks, tabs, the zero-width joiner


def visible(text: str) -> str:
    """``text`` without controls (Unicode Cc) or format characters (Cf: bidi marks and
    overrides, zero-width spaces, tags...), "\\r\\n" becoming "\\n"."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text
                   if c in KEPT or unicodedata.category(c) not in ("Cc", "Cf"))
