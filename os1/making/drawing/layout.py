"""Where a thing of her plan goes: the words of its "where" ("upper left", "bottom
half") made into a box on the canvas, which the model is told with the thing.

Why: a 1.5B model writing coordinates from words puts the sun off the canvas or on
the sea; given "x 250 to 400, y 0 to 110" it copies numbers from inside the box. The
words and their boxes are data (os1/data/drawing.toml), and a "where" about another
thing ("top of the cat") gets no box: what is already drawn places it.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from os1.data import fill, read_toml


@cache
def _layout() -> dict[str, Any]:
    return dict(read_toml("drawing.toml")["layout"])


def hinted(line: str) -> str:
    """The plan line as the model is given it: with its box where its words name one."""
    box = region(line.partition(":")[2].partition(",")[0])
    if box is None:
        return line
    x0, y0, x1, y1 = box
    return fill(_layout()["hint"], line=line, x0=str(x0), y0=str(y0), x1=str(x1),
                y1=str(y1))


def region(where: str) -> tuple[int, int, int, int] | None:
    """The box ``where`` names (x0, y0, x1, y1), or None when it names none."""
    layout = _layout()
    words = where.lower().split()
    if not words or any(word in layout["relative"] for word in words):
        return None
    text = " ".join(words)
    both = _first(layout["both"], text)
    if both is not None:
        return int(both[0]), int(both[1]), int(both[2]), int(both[3])
    x, y = _first(layout["x"], text), _first(layout["y"], text)
    middle = any(_has(text, word) for word in layout["middle"])
    if x is None and y is None and not middle:
        return None
    x = x or (layout["middle_x"] if middle else [0, 400])
    y = y or (layout["middle_y"] if middle else [0, 300])
    return int(x[0]), int(y[0]), int(x[1]), int(y[1])


def _first(phrases: dict[str, list[int]], text: str) -> list[int] | None:
    """The box of the longest phrase of ``phrases`` in ``text``."""
    for phrase in sorted(phrases, key=len, reverse=True):
        if _has(text, phrase):
            return phrases[phrase]
    return None


def _has(text: str, phrase: str) -> bool:
    return re.search(rf"\b{re.escape(phrase)}\b", text) is not None
