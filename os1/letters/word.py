"""A Word document's text, through python-docx; and what a ZIP archive is, if not one.

Why every paragraph of the body, in tables and content controls too, and not only
``Document.paragraphs``: a letter written from a template often sits in a content
control, and those are outside ``paragraphs``; text boxes (paragraphs inside a paragraph)
stay out, as Word's own "save as text" leaves them. Why tracked changes are refused: the
text with them accepted and the text with them rejected are two different letters, and
only he knows which one he means.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass

import docx
from docx.exceptions import PythonDocxError
from docx.opc.exceptions import OpcError
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.text.paragraph import Paragraph

from os1.errors import InputError, MessageTooLong

DOCUMENT = "word/document.xml"
# The body's XML unpacked: a 200,000-character letter is a few MB of it; past this, the
# archive is something else (or built to fill the memory of whoever unpacks it).
MAX_DOCUMENT_BYTES = 64_000_000
RESAVE = "Open it in your word processor, save it again as .docx, and add it again."
# Archives that aren't Word documents, by a file only they hold.
ZIP_KINDS: tuple[tuple[str, str], ...] = (
    ("xl/workbook.xml", "an Excel spreadsheet"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
    ("META-INF/container.xml", "an EPUB book"),
    ("index.xml", "a Pages document"),
)
OPENDOCUMENT = "application/vnd.oasis.opendocument."
# What opening a damaged (or exotically made) archive, or reading a member, raises.
UNREADABLE_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError)


@dataclass(frozen=True)
class DocxText:
    """The letter's paragraphs joined by blank lines; its title if its properties have
    one; what was read differently from plain paragraphs."""

    text: str
    title: str
    notes: tuple[str, ...]


def is_zip(data: bytes) -> bool:
    return data.startswith((b"PK\x03\x04", b"PK\x05\x06"))


def zip_kind(data: bytes, called: str) -> str | None:
    """None for a Word document; else what the archive is ("an Excel spreadsheet")."""
    with _opened(data, called) as archive:
        names = set(archive.namelist())
        if DOCUMENT in names:
            return None
        mimetype = _mimetype(archive) if "mimetype" in names else ""
    if mimetype.startswith(OPENDOCUMENT):
        return f"an OpenDocument file (.od{mimetype[len(OPENDOCUMENT):][:1]})"
    for inner, kind in ZIP_KINDS:
        if inner in names:
            return kind
    return "a ZIP archive"


def _mimetype(archive: zipfile.ZipFile) -> str:
    """An OpenDocument's first file, naming its kind ('' if it can't be read)."""
    try:
        return archive.read("mimetype")[:100].decode("ascii", "replace")
    except UNREADABLE_ZIP:
        return ""


def _opened(data: bytes, called: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(io.BytesIO(data))
    except (ValueError, *UNREADABLE_ZIP) as exc:
        raise InputError(f"{called} is a damaged ZIP archive ({exc}), so it can't be read "
                         "as a Word document.", RESAVE) from None


def not_a_zip(called: str) -> InputError:
    return InputError(f"{called} isn't a Word document: a .docx file is a ZIP archive, and "
                      "this isn't one. It may be damaged, or another kind of file renamed.",
                      RESAVE)


def read_docx(data: bytes, called: str) -> DocxText:
    """The text of a .docx, refused if its changes are still tracked or it is damaged."""
    with _opened(data, called) as archive:
        size = archive.getinfo(DOCUMENT).file_size
    if size > MAX_DOCUMENT_BYTES:
        raise MessageTooLong(f"{called}'s text unpacks to {size / 1e6:,.0f} MB, far more "
                             "than any letter.", "Add a letter at a time.")
    try:
        document = docx.Document(io.BytesIO(data))
        body = document.element.body
        _refuse_tracked_changes(body, called)
        paragraphs = [p for p in body.iter(qn("w:p")) if _outside_text_box(p)]
        texts = [Paragraph(p, document).text for p in paragraphs]
        title = (document.core_properties.title or "").strip()
    except (PythonDocxError, OpcError, KeyError, ValueError, SyntaxError,
            *UNREADABLE_ZIP) as exc:
        raise InputError(f"{called} is a damaged Word document ({_damage(exc)}).",
                         RESAVE) from None
    in_tables = any(text.strip() and _in_table(element)
                    for text, element in zip(texts, paragraphs, strict=True))
    notes = ("Its tables were read a cell at a time, each cell's paragraphs in turn.",
             ) if in_tables else ()
    return DocxText("\n\n".join(text for text in texts if text.strip()), title, notes)


def _refuse_tracked_changes(body: BaseOxmlElement, called: str) -> None:
    """A move counts as what it does to the text: its new place an insertion, its old
    one a deletion."""
    inserted = sum(1 for tag in ("w:ins", "w:moveTo") for _ in body.iter(qn(tag)))
    deleted = sum(1 for tag in ("w:del", "w:moveFrom") for _ in body.iter(qn(tag)))
    if inserted or deleted:
        raise InputError(
            f"{called} has tracked changes ({_counted(inserted, 'insertion')}, "
            f"{_counted(deleted, 'deletion')}): accept or reject them in your word "
            "processor, then add it again.",
            "In Word: Review, then Accept or Reject; in LibreOffice: Edit, Track Changes, "
            "Manage.")


def _damage(exc: Exception) -> str:
    """What python-docx, lxml or zipfile found wrong, in a few words."""
    if isinstance(exc, SyntaxError):  # lxml's XMLSyntaxError is one
        return f"its XML is broken: {exc}"
    if isinstance(exc, KeyError) and exc.args:
        return str(exc.args[0])
    return str(exc) or type(exc).__name__


def _counted(number: int, thing: str) -> str:
    return f"{number} {thing}" + ("" if number == 1 else "s")


def _outside_text_box(paragraph: BaseOxmlElement) -> bool:
    return next(paragraph.iterancestors(qn("w:p")), None) is None


def _in_table(paragraph: BaseOxmlElement) -> bool:
    return next(paragraph.iterancestors(qn("w:tbl")), None) is not None
