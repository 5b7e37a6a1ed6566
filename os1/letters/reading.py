"""What he gives as a letter (a file or what he pasted) turned into the letter's text, or
refused with a message that says exactly what is wrong and what to do.

What is kept: his words as he wrote them. Line endings become ``\\n``, blank lines before
the first words and blank space after the last go; nothing else is touched. Markdown
stays Markdown (his ``*emphasis*`` and ``# headings`` are part of how he wrote it, and
the book can set them), except a YAML front-matter block at the very top, which is
metadata, not his words: its ``title:`` becomes the letter's title, and a note says it
was left out. A .docx is read whatever its name says, and any name whose content is text
is read as plain text ("letter to Sam", "note.to.sam").

Why the size is checked before decoding: UTF-8, UTF-16 and UTF-32 all spend at most 4
bytes on a character, so bytes over four times the limit are over it for certain, and a
5 MB paste is refused at once, without being decoded at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from os1.errors import EmptyMessage, MessageTooLong
from os1.letters.decoding import binary_kind, decode_text, refuse_controls, refused_kind
from os1.letters.language import looks_english
from os1.letters.word import is_zip, not_a_zip, read_docx, zip_kind

__all__ = ["MAX_LETTER_CHARS", "NOT_ENGLISH", "ReadLetter", "looks_english", "read_letter"]

# A long letter is 5,000-20,000 characters; ten times the longest is still a letter.
MAX_LETTER_CHARS = 200_000
MAX_BYTES_PER_CHAR = 4
TITLE_CHARS = 60
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown", ".mkd"})
NOT_ENGLISH = "This letter seems not to be in English."
TOO_LONG_HINT = ("A long letter is 5,000 to 20,000 characters. If this is several letters, "
                 "add them one at a time.")

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n((?:[^\n]*\n){0,40}?)(?:---|\.\.\.)[ \t]*(?:\n|\Z)")
_FRONT_MATTER_LINE = re.compile(r"[A-Za-z_][\w -]*:|[ \t]|- |#|\Z")
_FRONT_MATTER_TITLE = re.compile(r"^title[ \t]*:[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_LEADING_BLANK_LINES = re.compile(r"\A(?:[ \t]*\n)+")
_LINES = re.compile(r"[^\n]*\S[^\n]*")
_MARKDOWN_OPENING = re.compile(r"^(?:#{1,6}[ \t]+|>[ \t]*|[-*+][ \t]+|\d+[.)][ \t]+)+")
_MARKDOWN_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|`)(\S.*?)\1")


@dataclass(frozen=True)
class ReadLetter:
    """The letter's text, a title for it, and what she (and he) should know about how it
    was read: ``NOT_ENGLISH`` among them when it reads as another language."""

    text: str
    title: str
    notes: tuple[str, ...]


def read_letter(data: bytes, name: str) -> ReadLetter:
    """The letter in ``data``; ``name`` is its file's name, or "-" for standard input.
    Raises ``InputError`` (``EmptyMessage``, ``MessageTooLong``) saying what is wrong."""
    called = "What came in on standard input" if name == "-" else name
    if not data:
        raise EmptyMessage(f"{called} is empty.", "There is no letter in it to keep.")
    kind = binary_kind(data)
    if kind is not None:
        raise refused_kind(called, kind)
    if is_zip(data):
        inner = zip_kind(data, called)
        if inner is not None:
            raise refused_kind(called, inner)
        return _from_docx(data, called, _suffix(name))
    if _suffix(name) == ".docx":
        raise not_a_zip(called)
    return _from_text(data, called, markdown=_suffix(name) in MARKDOWN_SUFFIXES)


def _suffix(name: str) -> str:
    return "" if name == "-" else PurePath(name).suffix.lower()


def _from_docx(data: bytes, called: str, suffix: str) -> ReadLetter:
    document = read_docx(data, called)
    notes = document.notes
    if suffix != ".docx":
        notes = ("It is a Word document (.docx), whatever its name says, and was read as "
                 "one.", *notes)
    return _finished(document.text, called, document.title, notes, markdown=False)


def _from_text(data: bytes, called: str, markdown: bool) -> ReadLetter:
    if len(data) > MAX_BYTES_PER_CHAR * (MAX_LETTER_CHARS + 1):
        raise MessageTooLong(
            f"{called} is {len(data) / 1e6:.1f} MB, more than {MAX_LETTER_CHARS:,} "
            f"characters; a letter can be at most {MAX_LETTER_CHARS:,}.", TOO_LONG_HINT)
    text = decode_text(data, called).replace("\r\n", "\n").replace("\r", "\n")
    if markdown:
        text, title, notes = _without_front_matter(text)
        return _finished(text, called, title, notes, markdown=True)
    return _finished(text, called, "", (), markdown=False)


def _finished(text: str, called: str, title: str, notes: tuple[str, ...],
              markdown: bool) -> ReadLetter:
    text = _LEADING_BLANK_LINES.sub("", text).rstrip()
    if not text:
        raise EmptyMessage(f"{called} holds nothing but blank space.",
                           "There is no letter in it to keep.")
    if len(text) > MAX_LETTER_CHARS:
        raise MessageTooLong(f"{called} is {len(text):,} characters long; a letter can be "
                             f"at most {MAX_LETTER_CHARS:,}.", TOO_LONG_HINT)
    refuse_controls(text, called)
    if not looks_english(text):
        notes = (*notes, NOT_ENGLISH)
    return ReadLetter(text, title or guessed_title(text, markdown), notes)


def _without_front_matter(text: str) -> tuple[str, str, tuple[str, ...]]:
    """Markdown without a leading YAML block of ``key: value`` lines, its title, a note."""
    found = _FRONT_MATTER.match(text)
    if found is None or not all(_FRONT_MATTER_LINE.match(line)
                                for line in found.group(1).split("\n")):
        return text, "", ()
    titled = _FRONT_MATTER_TITLE.search(found.group(1))
    title = titled.group(1).strip("\"'").strip() if titled else ""
    note = "Its front matter (the block between --- lines at the top) was left out."
    return text[found.end():], title, (note,)


def guessed_title(text: str, markdown: bool = False) -> str:
    """The first line with words in it, its Markdown marks off, cut to about 60
    characters at a word: "Dear Chris," becomes "Dear Chris"."""
    lines = [line.group().strip() for line in _LINES.finditer(text, 0, 10_000)] or [""]
    first = lines[0]
    for line in lines if markdown else ():
        plain = _MARKDOWN_EMPHASIS.sub(r"\2", _MARKDOWN_OPENING.sub("", line)).strip()
        if any(char.isalnum() for char in plain):
            first = plain
            break
    first = first.rstrip(",;: ") or first
    if len(first) <= TITLE_CHARS:
        return first
    cut = first[:TITLE_CHARS - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > TITLE_CHARS // 2 else cut).rstrip(" ,;:.-–—") + "…"
