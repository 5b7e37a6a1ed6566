"""His chosen letters as publishers ask to receive them: a query letter (the mail's body),
a one-page synopsis, and the manuscript, or its first letters as sample pages, in
standard manuscript format (manuscript.py).

Why none of it is written by the model: a query letter speaks for him to a stranger who
judges his work by it. Its facts (the title, the word count, the letters and who they
were for) come from his letters; its bio is his own words, kept as he gave them
(bio.py); its frame is data (``data/letters_submission.toml``). The synopsis is grounded
the same way: titles, the people they were for, and his own opening lines, cut to fit
one page. Anonymised, the people they were for are "A.", "B." ... in all three, as in
the book.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from os1.data import fill, read_toml
from os1.errors import InputError
from os1.letters.anonymise import Anonymiser
from os1.letters.book import CHOOSE_HINT, BookLetter, file_stem
from os1.letters.book_text import one_line, paragraphs
from os1.letters.manuscript import build_manuscript, rounded_word_count, word_count
from os1.letters.records import Letter
from os1.letters.typesetting import DEBIAN_TYPEFACES, Typefaces
from os1.storage.artefacts import ArtefactStore

MAX_SYNOPSIS_WORDS = 300  # a page of ordinary type
OPENING_WORDS = 25
NAMED_PEOPLE = 6
MAX_NAME = 80
MAX_TITLE = 120
MAX_ADDRESS = 254  # RFC 5321's longest path
DEFAULT_TITLE = "Letters"
_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_SALUTATION = re.compile(r"^(?:dear|dearest|my dear|hi|hello|hey|to)\b|,$", re.IGNORECASE)
_DOUBLE_STOP = re.compile(r"(\b[A-Z]{1,3}\.)\.")
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’)]*\s")


@dataclass(frozen=True)
class SubmissionPlan:
    """What he asked to send, and to whom. ``contact``: his name and how to reach him,
    one to a line (the manuscript's first page, the letter's signature); ``sample``: the
    first N letters as sample pages (0: the whole manuscript)."""

    to: str
    title: str
    author: str
    bio: str
    contact: tuple[str, ...]
    editor: str = ""
    publisher: str = ""
    sample: int = 0
    anonymise: bool = False


@dataclass(frozen=True)
class PackageFile:
    name: str
    mime: str
    content: bytes


@dataclass(frozen=True)
class Package:
    """Everything that would go, as it would go: ``query`` is the mail's body."""

    plan: SubmissionPlan
    subject: str
    query: str
    synopsis: str
    files: tuple[PackageFile, ...]
    words: int
    letters: tuple[int, ...]


def build_package(plan: SubmissionPlan, letters: Sequence[Letter],
                  faces: Typefaces = DEBIAN_TYPEFACES) -> Package:
    """The query letter, the synopsis and the manuscript PDF for ``letters`` (his chosen
    ones, in order); InputError or BookError, before anything is made, when it can't be."""
    _check(plan)
    if not letters:
        raise InputError("No letters are chosen for the book yet, so there is nothing to "
                         "send.", CHOOSE_HINT)
    hide = Anonymiser(letter.written_for for letter in letters) if plan.anonymise \
        else Anonymiser(())
    book = [BookLetter(hide(one_line(letter.title)), hide(one_line(letter.written_for)),
                       hide(letter.text)) for letter in letters]
    title = hide(one_line(plan.title))
    words = word_count(book)
    sample = plan.sample if 0 < plan.sample < len(book) else 0
    stem = file_stem(title)
    with tempfile.TemporaryDirectory(prefix="os1-submission-") as folder:
        pdf = build_manuscript(title, plan.author, plan.contact, book[:sample or None],
                               Path(folder), faces).read_bytes()
    synopsis_text = synopsis(title, plan.author, book, words)
    text = _texts()["query"]
    subject = fill(text["subject"], title=title, words=f"{rounded_word_count(words):,}")
    files = (PackageFile(f"{stem} - synopsis.txt", "text/plain",
                         (synopsis_text + "\n").encode("utf-8")),
             PackageFile(f"{stem} - {'sample pages' if sample else 'manuscript'}.pdf",
                         "application/pdf", pdf))
    return Package(plan, one_line(subject), query_letter(plan, title, book, words, sample),
                   synopsis_text, files, words, tuple(letter.id for letter in letters))


def query_letter(plan: SubmissionPlan, title: str, letters: Sequence[BookLetter],
                 words: int, sample: int = 0) -> str:
    """To the editor by name where he gave one; his bio exactly as he gave it."""
    text = _texts()["query"]
    values = {"title": title, "words": f"{rounded_word_count(words):,}",
              "count": _count(len(letters), "letter"), "editor": plan.editor,
              "publisher": plan.publisher, "first": letters[0].title,
              "last": letters[-1].title, "sample": str(sample),
              "people": _people_count(letters)}
    dear = "dear_editor" if plan.editor else "dear_publisher" if plan.publisher \
        else "dear_anyone"
    opening = "opening_publisher" if plan.publisher else "opening"
    what = "what" if len(letters) > 1 else "what_one"
    enclosed = "sample" if sample else "whole"
    parts = [fill(text[dear], **values), fill(text[opening], **values),
             fill(text[what], **values), plan.bio,
             f"{fill(text[enclosed], **values)} {text['thanks']}",
             "\n".join([text["closing"], *plan.contact])]
    return "\n\n".join(parts)


def synopsis(title: str, author: str, letters: Sequence[BookLetter], words: int) -> str:
    """One page: what the collection holds, each letter with who it was for and how it
    begins, and its arc; shorter forms when the whole would not fit in
    ``MAX_SYNOPSIS_WORDS`` (first without the openings, then the first letters only)."""
    text = _texts()["synopsis"]
    head = [fill(text["heading"], title=title, author=author),
            fill(text["about"], title=title, author=author,
                 words=f"{rounded_word_count(words):,}",
                 count=_count(len(letters), "letter"))]
    arc = _arc(letters)

    def page(lines: list[str], left_out: int) -> str:
        more = [fill(text["more"], count=f"{left_out:,}")] if left_out else []
        return "\n\n".join([*head, "\n".join([text["letters"], *lines, *more]),
                              arc]).strip()

    fixed = _words(page([], 0))
    for with_openings in (True, False):
        lines = [_listed(n, letter, with_openings) for n, letter in enumerate(letters, 1)]
        if fixed + sum(map(_words, lines)) <= MAX_SYNOPSIS_WORDS:
            return page(lines, 0)
    budget = MAX_SYNOPSIS_WORDS - _words(page([], len(letters)))
    shown = 0
    while shown < len(lines) and _words(lines[shown]) <= budget:
        budget -= _words(lines[shown])
        shown += 1
    return page(lines[:shown], len(letters) - shown)


def contact_block(author: str, address: str, extra: Sequence[str] = ()) -> tuple[str, ...]:
    """His name, the lines he added (a postal address, a telephone) and his mail address,
    each once."""
    lines = [one_line(line) for line in (author, *extra, address)]
    return tuple(dict.fromkeys(line for line in lines if line))


def book_title(things: ArtefactStore) -> str:
    """The title he gave his book the last time he made it (``os1 letters book``), else
    "Letters"."""
    for thing in things.list("letters"):
        if thing.kind == "book":
            return re.sub(r" \((?:pdf|epub)\)$", "", thing.title) or DEFAULT_TITLE
    return DEFAULT_TITLE


def checked_address(text: str) -> str:
    address = text.strip()
    if len(address) > MAX_ADDRESS or not _ADDRESS.fullmatch(address):
        raise InputError(f"{one_line(address)[:100]!r} is not one mail address I can send "
                         "to.", "Give the publisher's submissions address, like "
                         "submissions@publisher.example.")
    return address


def _check(plan: SubmissionPlan) -> None:
    checked_address(plan.to)
    for what, value, limit in (("title", plan.title, MAX_TITLE),
                               ("author's name", plan.author, MAX_NAME),
                               ("editor's name", plan.editor, MAX_NAME),
                               ("publisher's name", plan.publisher, MAX_NAME)):
        if len(value) > limit or "\n" in value:
            raise InputError(f"The {what} must be one line of at most {limit} characters.")
    if not one_line(plan.title):
        raise InputError("The book has no title.", "Give it one with --title.")
    if not one_line(plan.author):
        raise InputError("The submission has no author's name.", "Give it with --author.")
    if not plan.bio.strip():
        raise InputError("The query letter needs your bio, in your own words.",
                         "Give it with --bio TEXT or --bio-file FILE.")
    if plan.sample < 0:
        raise InputError(f"--sample must be a number of letters, not {plan.sample}.")


def _listed(number: int, letter: BookLetter, with_opening: bool) -> str:
    text = _texts()["synopsis"]
    for_whom = fill(text["for_whom"], name=letter.written_for) if letter.written_for else ""
    line = fill(text["letter"], number=str(number), title=letter.title, for_whom=for_whom)
    begins = opening_line(letter.text) if with_opening else ""
    return _stop(line + ".") + (fill(text["opening"], opening=begins) if begins else "")


def opening_line(text: str) -> str:
    """His first sentence after the salutation, cut to ``OPENING_WORDS`` words."""
    for para in paragraphs(text):
        joined = " ".join(" ".join(para.lines).split())
        if len(para.lines) == 1 and len(joined) <= 40 and _SALUTATION.search(joined):
            continue
        sentence = _SENTENCE_END.split(joined + " ", maxsplit=1)[0].strip()
        cut = sentence.split()
        return " ".join(cut[:OPENING_WORDS]) + ("…" if len(cut) > OPENING_WORDS else "")
    return ""


def _arc(letters: Sequence[BookLetter]) -> str:
    text = _texts()["synopsis"]
    if len(letters) < 2:
        return ""
    first, last = letters[0], letters[-1]
    parts = [fill(text["arc_open"], first=first.title, last=last.title,
                  first_for=_for(first), last_for=_for(last))]
    times = Counter(letter.written_for for letter in letters if letter.written_for)
    again = [name for name, n in times.items() if n > 1]
    if again:
        parts.append(fill(text["arc_again"], names=_listing(again),
                          verb="is" if len(again) == 1 else "are"))
    if len(times) > 1:
        parts.append(fill(text["arc_people"], people=_listing(list(times))))
    return _stop(" ".join(parts))


def _for(letter: BookLetter) -> str:
    return f" (for {letter.written_for})" if letter.written_for else ""


def _listing(names: list[str]) -> str:
    shown = names[:NAMED_PEOPLE]
    rest = len(names) - len(shown)
    if rest:
        return ", ".join(shown) + f" and {_count(rest, 'other')}"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _people_count(letters: Sequence[BookLetter]) -> str:
    people = {letter.written_for for letter in letters if letter.written_for}
    return "" if not people else f" ({_count(len(people), 'person', 'people')} in all)"


def _count(n: int, one: str, many: str = "") -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _stop(text: str) -> str:
    """One full stop after an initial that ends a sentence ("to A.", not "to A..")."""
    return _DOUBLE_STOP.sub(r"\1", text)


def _words(text: str) -> int:
    return len(text.split())


def _texts() -> dict[str, Any]:
    return read_toml("letters_submission.toml")
