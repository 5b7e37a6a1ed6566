"""Quoting a stranger's words (a sender's name, a subject) inside what she says: on one
line, without characters that could end the quote or hide and reorder text."""

from __future__ import annotations

from os1.visible_text import visible


def one_line(text: str, limit: int) -> str:
    """On one line, without quotes that would end the quoting or characters that hide
    or reorder text (controls, bidi overrides, zero-width)."""
    flat = " ".join(visible(text).replace('"', "'").split())
    return flat if len(flat) <= limit else flat[:limit - 1].rstrip() + "…"
