"""A letter's text as the book sets it: paragraphs where he left a blank line, his line
breaks kept inside them (a salutation, an address, a sign-off), and where his closing
lines begin, for the handwriting face.

Why the text is cleaned of controls here: the same words go to typst and into XHTML, and
XML has no place for most control characters; they show nothing in a book anyway.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from os1.visible_text import visible

BLANK_LINE = re.compile(r"\n[ \t]*\n")
CLOSING_LINE_CHARS = 40  # "With all my love, always," fits; a sentence of the letter doesn't
CLOSING_LINES = 3


@dataclass(frozen=True)
class Paragraph:
    """One paragraph's lines; from line ``hand_from`` on (None: none) they are his
    closing, set in his hand when the book asks for it."""

    lines: tuple[str, ...]
    hand_from: int | None = None


@dataclass(frozen=True)
class Chapter:
    """A letter as the book holds it (names already replaced if it is anonymised)."""

    title: str
    written_for: str
    paragraphs: tuple[Paragraph, ...]


@dataclass(frozen=True)
class BookText:
    title: str
    author: str
    foreword: tuple[Paragraph, ...]
    chapters: tuple[Chapter, ...]
    handwriting: bool


def clean(text: str) -> str:
    """Printable text: no controls or invisible format characters, tabs as spaces, Unicode
    line and paragraph separators as the breaks they stand for."""
    text = visible(text.replace("\u2028", "\n").replace("\u2029", "\n\n"))
    text = re.sub(r"[\ud800-\udfff\ufffe\uffff]", "", text)
    return text.replace("\t", " ")


def one_line(text: str) -> str:
    """A title or a name: cleaned, its runs of spaces and line breaks one space."""
    return " ".join(clean(text).split())


def paragraphs(text: str) -> tuple[Paragraph, ...]:
    """Blank lines part paragraphs; single line breaks stay inside them. Each line keeps
    its words as written, only without trailing spaces."""
    found = []
    for block in BLANK_LINE.split(clean(text).strip("\n")):
        lines = tuple(line.rstrip() for line in block.split("\n"))
        if any(lines):
            found.append(Paragraph(lines))
    return tuple(found)


def with_closing(paras: tuple[Paragraph, ...]) -> tuple[Paragraph, ...]:
    """``paras`` with the last paragraph's closing marked: from a short line ending in a
    comma ("Love,", "Yours ever,") among its last lines, or the whole last paragraph when
    it is a short block of its own (a signature). Never the whole letter."""
    if not paras:
        return paras
    last = paras[-1]
    tail = 0
    while (tail < min(CLOSING_LINES, len(last.lines))
           and len(last.lines[-1 - tail].strip()) <= CLOSING_LINE_CHARS):
        tail += 1
    start = len(last.lines) - tail
    valediction = [i for i in range(start, len(last.lines)) if last.lines[i].endswith(",")]
    if valediction:
        start = valediction[0]
    elif not (tail == len(last.lines) and len(paras) > 1):
        return paras
    if start == 0 and len(paras) == 1:
        return paras
    return (*paras[:-1], Paragraph(last.lines, start))
