"""Quoting a stranger's words (a sender's name, a subject) inside what she says: on one
line, without characters that could end the quote or hide and reorder text."""

from __future__ import annotations

import unicodedata


def one_line(text: str, limit: int) -> str:
    """On one line, without quotes that would end the quoting or characters that hide
    or reorder text (controls, bidi overrides, zero-width)."""
    visible = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    flat = " ".join(visible.replace('"', "'").split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
