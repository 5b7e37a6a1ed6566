"""His chosen letters made into a book: a PDF typeset by typst and an EPUB 3, made from
the same prepared text so the two never differ in a word.

Why everything is checked before anything is written: a book with no letters, a letter
with no words or a missing typeface each get their own message, and the files already in
the folder (last week's book) stay as they were. Both files are made in memory first and
only then written whole (typesetting.write_whole).

Anonymised, the people the letters were for become "A.", "B." ... everywhere: the
headings, the contents, the book's title, her foreword and the letters' own words
(anonymise.py says how names are found).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from os1.letters.anonymise import Anonymiser
from os1.letters.book_epub import book_epub
from os1.letters.book_pdf import book_pdf, book_pngs
from os1.letters.book_text import BookText, Chapter, one_line, paragraphs, with_closing
from os1.letters.typesetting import (
    DEBIAN_TYPEFACES,
    BookError,
    Typefaces,
    writable,
    write_whole,
)

__all__ = ["BookError", "BookFiles", "BookLetter", "BookPlan", "book_text", "build_book",
           "preview_pages"]

CHOOSE_HINT = "Choose the letters for it first: os1 letters choose N"


@dataclass(frozen=True)
class BookLetter:
    """One letter as it goes into the book; ``written_for`` is '' for no one named."""

    title: str
    written_for: str
    text: str


@dataclass(frozen=True)
class BookPlan:
    """What the book is to hold, the letters in the order they are printed."""

    title: str
    author: str
    letters: Sequence[BookLetter]
    foreword: str = ""
    anonymise: bool = False
    handwriting: bool = False


@dataclass(frozen=True)
class BookFiles:
    pdf: Path
    epub: Path


def build_book(plan: BookPlan, folder: Path,
               faces: Typefaces = DEBIAN_TYPEFACES) -> BookFiles:
    """``<folder>/<title>.pdf`` and ``.epub``, both written or neither (BookError)."""
    text = book_text(plan)
    pdf = book_pdf(text, faces)  # checks the typefaces first
    epub = book_epub(text, faces.book.folder())
    writable(folder)
    stem = file_stem(text.title)  # anonymised, the file's name hides them too
    files = BookFiles(folder / f"{stem}.pdf", folder / f"{stem}.epub")
    write_whole({files.pdf: pdf, files.epub: epub})
    return files


def preview_pages(plan: BookPlan, pages: int = 2, ppi: float = 96.0,
                  faces: Typefaces = DEBIAN_TYPEFACES) -> list[bytes]:
    """The first ``pages`` pages of the PDF as PNG images, for the web page's preview."""
    if pages < 1 or not 9 <= ppi <= 600:
        raise BookError(f"A preview needs at least one page at 9 to 600 pixels per inch "
                        f"(asked: {pages} pages at {ppi:g}).")
    return book_pngs(book_text(plan), faces, ppi)[:pages]


def book_text(plan: BookPlan) -> BookText:
    """The plan checked and prepared: paragraphs found, closings marked, names replaced
    when it is anonymised."""
    _check(plan)
    hide = (Anonymiser(one_line(letter.written_for) for letter in plan.letters)
            if plan.anonymise
            else Anonymiser(()))
    chapters = tuple(Chapter(hide(one_line(letter.title)), hide(one_line(letter.written_for)),
                             with_closing(paragraphs(hide(letter.text))))
                     for letter in plan.letters)
    return BookText(title=hide(one_line(plan.title)), author=one_line(plan.author),
                    foreword=paragraphs(hide(plan.foreword)), chapters=chapters,
                    handwriting=plan.handwriting)


def _check(plan: BookPlan) -> None:
    if not plan.letters:
        raise BookError("There are no letters chosen for the book yet.", CHOOSE_HINT)
    if not one_line(plan.title):
        raise BookError("The book has no title.", "Give it one, as he'd like it printed.")
    if not one_line(plan.author):
        raise BookError("The book has no author's name.", "Give the name to print on it.")
    for n, letter in enumerate(plan.letters, 1):
        title = one_line(letter.title)
        name = f'Letter {n} ("{title}")' if title else f"Letter {n}"
        if not title:
            raise BookError(f"{name} in the book has no title.", "Give it one first.")
        if not paragraphs(letter.text):
            raise BookError(f"{name} in the book has no text.",
                            "Write it, or leave it out of the book.")


def file_stem(title: str) -> str:
    """A file name from the title: letters, digits, spaces and a few marks kept, nothing
    that climbs folders or hides the file; 'book' if nothing is left."""
    kept = "".join(c if c.isalnum() or c in " -_,'" else " " for c in title)
    stem = " ".join(kept.split())[:80].strip(" .")
    return stem or "book"
