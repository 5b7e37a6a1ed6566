"""The book as typst sets it: 6 x 9 inches, EB Garamond, a title page, the contents with
who each letter was for, her foreword, and each letter on a page of its own.

The template below is fixed; everything he wrote reaches it as data (``sys.inputs.data``)
and is placed as strings, never parsed as markup (see typesetting.py). Hyphenation is off:
his words stay whole, and the PDF's text reads back exactly as he wrote it.
"""

from __future__ import annotations

from typing import Any

from os1.letters.book_text import BookText, Chapter, Paragraph
from os1.letters.typesetting import Typefaces, font_folders, run_typst

TEMPLATE = r"""
#let data = json(bytes(sys.inputs.data))
#let hand = ("DkgHandwriting", "EB Garamond 12")

#set document(title: data.title, author: data.author)
#set text(font: "EB Garamond 12", size: 11pt, lang: "en", hyphenate: false,
          number-type: "old-style")
#set par(justify: true, leading: 0.62em, spacing: 1.3em)
#set page(width: 6in, height: 9in,
  margin: (inside: 0.9in, outside: 0.7in, top: 0.85in, bottom: 0.95in),
  footer: context {
    let n = counter(page).get().first()
    if n > 1 { align(center, text(size: 9.5pt, str(n))) }
  })
#show heading.where(level: 1): it => block(width: 100%, below: 0.9em,
  align(center, text(size: 17pt, weight: "regular", it.body)))

#let paragraph(p) = {
  let lines = p.lines.enumerate().map(((k, line)) => {
    if p.hand_from != none and k >= p.hand_from { text(font: hand, size: 1.25em, line) }
    else { line }
  })
  par(lines.join(linebreak()))
}

#let opening(title, for-whom) = {
  pagebreak(weak: true)
  v(16%)
  [#metadata(title) <entry>]
  heading(level: 1, title)
  if for-whom != "" {
    align(center, text(style: "italic", size: 10.5pt, "For " + for-whom))
  }
  align(center, line(length: 1.6em, stroke: 0.4pt))
  v(1.6em)
}

// the title page
#page(footer: none, {
  v(26%)
  align(center, {
    text(size: 26pt, tracking: 0.04em, data.title)
    v(1.4em)
    text(size: 13pt, style: "italic", data.author)
  })
})

// the contents
#v(6%)
#heading(level: 1, outlined: false, bookmarked: false, "Contents")
#v(1.2em)
#context {
  let marks = query(<entry>)
  for (i, entry) in data.entries.enumerate() {
    let at = counter(page).at(marks.at(i).location()).first()
    par(justify: false, {
      entry.title
      if entry.for != "" { h(0.4em); text(style: "italic", size: 0.9em, "for " + entry.for) }
      h(0.5em)
      box(width: 1fr, repeat(gap: 0.3em, text(size: 0.8em, ".")))
      h(0.5em)
      str(at)
    })
  }
}

#if data.foreword.len() > 0 {
  opening("Foreword", "")
  for p in data.foreword { paragraph(p) }
}

#for letter in data.letters {
  opening(letter.title, letter.for)
  for p in letter.paragraphs { paragraph(p) }
}
"""


def typst_data(book: BookText) -> dict[str, Any]:
    """What the template reads: plain strings and lists, the text already prepared."""
    entries = ([{"title": "Foreword", "for": ""}] if book.foreword else []) + [
        {"title": c.title, "for": c.written_for} for c in book.chapters]
    return {"title": book.title, "author": book.author, "entries": entries,
            "foreword": [_paragraph(p, False) for p in book.foreword],
            "letters": [_letter(c, book.handwriting) for c in book.chapters]}


def _letter(chapter: Chapter, handwriting: bool) -> dict[str, Any]:
    return {"title": chapter.title, "for": chapter.written_for,
            "paragraphs": [_paragraph(p, handwriting) for p in chapter.paragraphs]}


def _paragraph(paragraph: Paragraph, handwriting: bool) -> dict[str, Any]:
    return {"lines": list(paragraph.lines),
            "hand_from": paragraph.hand_from if handwriting else None}


def book_pdf(book: BookText, faces: Typefaces) -> bytes:
    """The whole book as one PDF."""
    return run_typst(TEMPLATE, typst_data(book), _fonts(book, faces))[0]


def book_pngs(book: BookText, faces: Typefaces, ppi: float) -> list[bytes]:
    """Every page of the book as a PNG (typst renders them all: the contents' page
    numbers need the whole book laid out)."""
    return run_typst(TEMPLATE, typst_data(book), _fonts(book, faces), png_ppi=ppi)


def _fonts(book: BookText, faces: Typefaces) -> list[str]:
    return font_folders([faces.book, faces.handwriting] if book.handwriting else [faces.book])
