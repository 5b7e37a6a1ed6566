"""The book as an EPUB 3 (ebooklib): a title page, the contents with who each letter was
for, her foreword, one XHTML chapter per letter, the navigation document, and EB Garamond
embedded (SIL Open Font License) so a reader that honours the book's fonts shows the
printed book's face.

Every piece of text is HTML-escaped; his line breaks inside a paragraph become ``<br/>``.
The handwriting face is named in the stylesheet but not embedded: its built font is
GPL-licensed, and a reader without it falls back to its own cursive.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from dataclasses import asdict
from html import escape
from pathlib import Path

from ebooklib import epub  # type: ignore[import-untyped]

from os1.letters.book_text import BookText, Paragraph
from os1.letters.typesetting import BookError

EMBEDDED = ("EBGaramond12-Regular.otf", "EBGaramond12-Italic.otf")
STYLE = """
@font-face { font-family: "EB Garamond"; font-style: normal;
             src: url("fonts/EBGaramond12-Regular.otf"); }
@font-face { font-family: "EB Garamond"; font-style: italic;
             src: url("fonts/EBGaramond12-Italic.otf"); }
body { font-family: "EB Garamond", Garamond, Georgia, serif; line-height: 1.45;
       hyphens: manual; -epub-hyphens: manual; }
h1 { font-weight: normal; text-align: center; font-size: 1.5em; margin: 3em 0 0.4em; }
p.for { text-align: center; font-style: italic; margin: 0 0 2em; }
p { margin: 0 0 0.8em; text-indent: 0; }
.hand { font-family: "DkgHandwriting", cursive; font-size: 1.2em; }
section.title { text-align: center; margin-top: 30%; }
section.title h1 { font-size: 2em; margin: 0 0 1em; }
section.title p { font-style: italic; font-size: 1.2em; }
ol.contents { list-style: none; padding: 0; }
ol.contents li { margin: 0 0 0.6em; }
ol.contents span.for { font-style: italic; font-size: 0.9em; }
"""


def book_epub(book: BookText, font_folder: Path) -> bytes:
    """The whole EPUB, in memory (written to disk whole by the caller)."""
    ebook = epub.EpubBook()
    ebook.set_identifier(_identifier(book))
    ebook.set_title(book.title)
    ebook.set_language("en")
    ebook.add_author(book.author)
    style = epub.EpubItem(uid="style", file_name="style.css", media_type="text/css",
                          content=STYLE.encode())
    ebook.add_item(style)
    for name in EMBEDDED:
        ebook.add_item(epub.EpubItem(uid=name.split(".")[0], file_name=f"fonts/{name}",
                                     media_type="application/vnd.ms-opentype",
                                     content=_font(font_folder / name)))
    chapters = _chapters(book)
    pages = [_page("title", book.title, _title_page(book)),
             _page("contents", "Contents", _contents(book, chapters)),
             *(_page(file, title, body) for file, title, body in chapters)]
    for page in pages:
        page.add_item(style)
        ebook.add_item(page)
    ebook.toc = [epub.Link(f"{file}.xhtml", title, file) for file, title, _ in chapters]
    ebook.add_item(epub.EpubNcx())
    ebook.add_item(epub.EpubNav())
    ebook.spine = pages
    out = io.BytesIO()
    epub.write_epub(out, ebook, {"epub3_pages": False})
    return out.getvalue()


def _font(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BookError(f"The font {path} can't be read: {exc.strerror or exc}.",
                        "Reinstall it: sudo apt install --reinstall fonts-ebgaramond") from exc


def _identifier(book: BookText) -> str:
    """The same book gives the same identifier; any change in it, a new one."""
    digest = hashlib.sha256(json.dumps(asdict(book), ensure_ascii=False).encode()).digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=5)}"


def _page(file: str, title: str, body: str) -> epub.EpubHtml:
    return epub.EpubHtml(uid=file, title=title, file_name=f"{file}.xhtml", lang="en",
                         content=f"<html><body>{body}</body></html>")


def _chapters(book: BookText) -> list[tuple[str, str, str]]:
    """(file name, title, XHTML body) for the foreword and each letter, in order."""
    found = []
    if book.foreword:
        found.append(("foreword", "Foreword",
                      "<section><h1>Foreword</h1>" + _paras(book.foreword, False)
                      + "</section>"))
    for n, chapter in enumerate(book.chapters, 1):
        for_line = (f'<p class="for">For {escape(chapter.written_for)}</p>'
                    if chapter.written_for else "")
        found.append((f"letter-{n:03d}", chapter.title,
                      f'<section class="letter"><h1>{escape(chapter.title)}</h1>{for_line}'
                      + _paras(chapter.paragraphs, book.handwriting) + "</section>"))
    return found


def _paras(paragraphs: tuple[Paragraph, ...], handwriting: bool) -> str:
    html = []
    for p in paragraphs:
        lines = [f'<span class="hand">{escape(line)}</span>'
                 if handwriting and p.hand_from is not None and k >= p.hand_from
                 else escape(line) for k, line in enumerate(p.lines)]
        html.append("<p>" + "<br/>".join(lines) + "</p>")
    return "".join(html)


def _title_page(book: BookText) -> str:
    return (f'<section class="title"><h1>{escape(book.title)}</h1>'
            f"<p>{escape(book.author)}</p></section>")


def _contents(book: BookText, chapters: list[tuple[str, str, str]]) -> str:
    whom = ([""] if book.foreword else []) + [c.written_for for c in book.chapters]
    items = []
    for (file, title, _), for_whom in zip(chapters, whom, strict=True):
        note = f' <span class="for">for {escape(for_whom)}</span>' if for_whom else ""
        items.append(f'<li><a href="{file}.xhtml">{escape(title)}</a>{note}</li>')
    return '<section><h1>Contents</h1><ol class="contents">' + "".join(items) + "</ol></section>"
