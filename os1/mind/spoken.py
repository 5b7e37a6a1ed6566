"""Her last try at a reply that came out as a document: the same words, said aloud.

Asked for "5 tips for sleeping better", a recipe or a table, the bundled model answers
with a markdown list on every try, and cutting the list leaves her nothing to say ("lost
for words"). So on the guard's last try the reply is read through ``Repair.spoken``: a
lead-in line ("Here's a simple recipe:") goes, list markers, headings, bold and table
pipes go, the items run on as sentences of one paragraph, and a code block keeps its
lines without its fences. An opening "Sure," or "Of course!" is dropped on every try
(``Repair.without_opener``): it is the model's habit, not worth asking again over.
Both work on the stream, holding back only what they have not decided yet.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# A line's markup, known from its first few characters.
FENCE = re.compile(r"\s*```")
TABLE = re.compile(r"\s*\|")
HEADING = re.compile(r"\s*#{1,6}\s+")
ITEM = re.compile(r"\s*(?:[-*•+]|\d{1,2}[.)])\s+")
TABLE_RULE = re.compile(r"^[\s|:\-]*-{3,}[\s|:\-]*$")
ENDS_SENTENCE = re.compile(r"[.!?:;,…][\"”’)]*$")
DECIDED_AFTER = 6  # characters of a line (after its indent) that tell its markup
INLINE = ("**", "`")


@dataclass(frozen=True)
class Repair:
    """``opener``: what a reply may open with and lose (``Sure,``); ``lead_in``: how a
    first line that only announces a list begins (``Here's``), which goes when it ends
    with a colon."""

    opener: re.Pattern[str]
    lead_in: re.Pattern[str]

    @classmethod
    def from_patterns(cls, opener: str, lead_in: str) -> Repair:
        return cls(re.compile(opener, re.IGNORECASE), re.compile(lead_in, re.IGNORECASE))

    def without_opener(self, pieces: Iterator[str]) -> Iterator[str]:
        head, deciding = "", True
        for piece in pieces:
            if not deciding:
                yield piece
                continue
            head += piece
            match = self.opener.match(head)
            if match and match.end() < len(head):
                yield _capitalised(head[match.end():])
                deciding = False
            elif not match and len(head.lstrip()) >= 14:
                yield head
                deciding = False
        if deciding and head:
            yield head  # the opener was all she said: keep it

    def spoken(self, pieces: Iterator[str]) -> Iterator[str]:
        lines = _Lines(self.lead_in)
        for piece in pieces:
            yield from filter(None, lines.feed(piece))
        yield from filter(None, lines.end())


class _Lines:
    """The markdown-to-speech state of one reply, fed as it streams."""

    def __init__(self, lead_in: re.Pattern[str]) -> None:
        self.lead_in = lead_in
        self.line = ""  # the current line, as the model wrote it
        self.kind: str | None = None  # its markup, once decided
        self.shown = 0  # how much of the current line's content is out
        self.content = ""  # what of it is out, cleaned
        self.in_code = False
        self.after_code = False  # the last line out was code
        self.said_any = False  # a line is out (the next one needs a separator)
        self.first = True  # the first line with words is still to come

    def feed(self, piece: str) -> Iterator[str]:
        for part in re.split(r"(\n)", piece):
            if part == "\n":
                yield from self._close_line()
            elif part:
                self.line += part
                yield self._more()

    def end(self) -> Iterator[str]:
        yield from self._close_line()

    def _more(self) -> str:
        if self.kind is None:
            body = self.line.lstrip()
            if len(body) < DECIDED_AFTER:
                return ""
            self.kind = self._kind()
        if self.kind in ("fence", "table", "lead"):
            return ""  # these are taken whole, at the line's end
        return self._show(self.line, final=False)

    def _kind(self) -> str:
        line = self.line
        if FENCE.match(line):
            return "fence"
        if self.in_code:
            return "code"
        if TABLE.match(line):
            return "table"
        if HEADING.match(line):
            return "heading"
        if ITEM.match(line):
            return "item"
        if self.first and self.lead_in.match(line.lstrip()):
            return "lead"
        return "text"

    def _show(self, line: str, final: bool) -> str:
        """The not yet shown part of ``line`` (all of it when ``final``), cleaned, with
        the separator from the line before if this is the line's first text."""
        body = line if self.kind == "code" else _unmarked(line, self.kind)
        if self.kind != "code":
            body = _inline(body).lstrip()
        if not final:
            body = body[:_safe_end(body)]
        new = body[self.shown:]
        if not new:
            return ""
        code = self.kind == "code" or self.after_code
        out = (("\n" if code else " ") if self.said_any and not self.content else "") + new
        self.shown += len(new)
        self.content += new
        self.first = False
        return out

    def _close_line(self) -> Iterator[str]:
        if self.kind is None and self.line.strip():
            self.kind = self._kind()
        kind, line = self.kind, self.line
        if kind == "fence":
            self.in_code = not self.in_code
        elif kind == "lead" and not line.rstrip().endswith(":"):
            self.kind = "text"
            yield self._show(line, final=True)
        elif kind in ("text", "item", "heading", "code") or \
                (kind == "table" and not TABLE_RULE.match(line)):
            yield self._show(line, final=True)
        if self.content and kind in ("item", "heading", "table") and \
                not ENDS_SENTENCE.search(self.content.rstrip()):
            yield ":" if kind == "heading" else "."
        if self.content:
            self.said_any, self.after_code = True, kind == "code"
        if kind == "lead":
            self.first = False
        self.line, self.kind, self.shown, self.content = "", None, 0, ""


def _unmarked(line: str, kind: str | None) -> str:
    if kind == "heading":
        return HEADING.sub("", line, count=1)
    if kind == "item":
        return ITEM.sub("", line, count=1)
    if kind == "table":
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        return ", ".join(cell for cell in cells if cell)
    return line


def _inline(text: str) -> str:
    for mark in INLINE:
        text = text.replace(mark, "")
    return text


def _safe_end(text: str) -> int:
    """Hold back a trailing ``*`` (the first half of ``**``) and trailing spaces."""
    return len(text.rstrip().rstrip("*"))


def _capitalised(text: str) -> str:
    stripped = text.lstrip()
    return stripped[:1].upper() + stripped[1:]
