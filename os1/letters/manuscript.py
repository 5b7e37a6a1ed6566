"""His letters as a publisher asks to receive them: standard manuscript format (after
William Shunn's "Proper Manuscript Format", what agents and editors expect).

US Letter, 1-inch margins, 12 pt Liberation Mono (Courier New's metrics) double-spaced,
ragged right, no hyphenation, every paragraph indented half an inch. The first page has
his contact details top left, the rounded word count top right ("about 2,300 words"),
and the title and byline a third of the way down; every later page has the running header
"Surname / TITLE / page" top right. Each letter starts on a new page a third of the way
down, with its title and who it was for; "END" closes the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from os1.letters.book import BookLetter, BookPlan, book_text, file_stem
from os1.letters.book_text import BookText
from os1.letters.typesetting import (
    DEBIAN_TYPEFACES,
    BookError,
    Typefaces,
    font_folders,
    run_typst,
    writable,
    write_whole,
)

TEMPLATE = r"""
#let data = json(bytes(sys.inputs.data))
#set document(title: data.title, author: data.author)
#set text(font: "Liberation Mono", size: 12pt, lang: "en", hyphenate: false,
          top-edge: 0.8em, bottom-edge: -0.2em)
// a line is 12 pt high and 12 pt apart from the next: double spacing, also between paragraphs
#set par(justify: false, leading: 12pt, spacing: 12pt,
         first-line-indent: (amount: 0.5in, all: true))
#set page(paper: "us-letter", margin: 1in, header-ascent: 0.5in - 12pt,
  header: context {
    let n = counter(page).get().first()
    if n > 1 { align(right, data.header + " / " + str(n)) }
  })

#let centred(body) = align(center, par(first-line-indent: 0pt, body))

// the first page
#grid(columns: (1fr, auto), column-gutter: 1em,
  par(leading: 0pt, first-line-indent: 0pt, data.contact.join(linebreak())),
  data.count)
#v(2.4in)
#centred(data.title)
#centred("by " + data.author)

#for letter in data.letters {
  pagebreak()
  v(2.4in)
  centred(letter.title)
  if letter.for != "" { centred("For " + letter.for) }
  v(24pt)
  for lines in letter.paragraphs { par(lines.join(linebreak())) }
}
#v(24pt)
#centred("END")
"""


def word_count(letters: Sequence[BookLetter]) -> int:
    """The letters' words as a word processor counts them: runs between spaces that hold a
    letter or a digit (a lone dash or ellipsis is no word)."""
    return sum(1 for letter in letters for word in letter.text.split()
               if any(c.isalnum() for c in word))


def rounded_word_count(words: int) -> int:
    """What agents expect on the first page: the nearest hundred, the nearest thousand
    from 10,000 words on (the nearest ten for a very short text)."""
    step = 10 if words < 100 else 100 if words < 10_000 else 1_000
    return max(step, int(words / step + 0.5) * step) if words else 0  # halves round up


def build_manuscript(title: str, author: str, contact_lines: Sequence[str],
                     letters: Sequence[BookLetter], folder: Path,
                     faces: Typefaces = DEBIAN_TYPEFACES) -> Path:
    """``<folder>/<title> - manuscript.pdf``, written whole (BookError on any fault)."""
    contact = [line.strip() for line in contact_lines if line.strip()]
    if not contact:
        raise BookError("The manuscript needs his contact details for its first page.",
                        "Give his name, address, telephone and email, one to a line.")
    text = book_text(BookPlan(title, author, letters))
    data = _data(text, contact, word_count(letters))
    pdf = run_typst(TEMPLATE, data, font_folders([faces.typewriter]))[0]
    path = writable(folder) / f"{file_stem(text.title)} - manuscript.pdf"
    write_whole({path: pdf})
    return path


def _data(text: BookText, contact: list[str], words: int) -> dict[str, Any]:
    surname = text.author.split()[-1]
    return {"title": text.title, "author": text.author, "contact": contact,
            "count": f"about {rounded_word_count(words):,} words",
            "header": f"{surname} / {text.title.upper()}",
            "letters": [{"title": c.title, "for": c.written_for,
                         "paragraphs": [list(p.lines) for p in c.paragraphs]}
                        for c in text.chapters]}
