"""The bodies the letters routes (``routes.py``) take and give, as pydantic models: what
comes in is validated (a 422 naming the field), and they write the routes' part of the
OpenAPI spec.

Why a text field refuses a lone surrogate here: JSON can carry one (``"\\ud800"``) and
Python keeps it, but no database can store it, so it would fail deep in a write as a
server error instead of a clear refusal at the door.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from os1.letters.records import EditKind, Letter, LetterVersion
from os1.letters.review import Outcome, Suggestion

MAX_FIELD = 2000  # a title or a name: the library says the real limit, precisely
MAX_NAME = 255  # a file's name
MAX_REASON = 300


def _encodable(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("holds a character that isn't valid Unicode (a lone surrogate "
                         f"at position {exc.start})") from exc
    return text


Text = Annotated[str, AfterValidator(_encodable)]


def _file_name(name: str) -> str:
    if any(ord(c) < 32 or ord(c) == 127 for c in name) or "/" in name or "\\" in name:
        raise ValueError("a file's name, without folders or control characters")
    return _encodable(name)


class LetterIn(BaseModel):
    """A letter written or pasted in: its text, its title (else its first line) and who
    it was for."""

    text: Text
    title: Text = Field("", max_length=MAX_FIELD)
    written_for: Text = Field("", max_length=MAX_FIELD)


class LetterFileIn(BaseModel):
    """A letter's file (.txt, .md or .docx), its bytes in base64."""

    name: Annotated[str, Field(min_length=1, max_length=MAX_NAME),
                    AfterValidator(_file_name)]
    data: str = Field(description="the file's bytes, base64")
    title: Text = Field("", max_length=MAX_FIELD)
    written_for: Text = Field("", max_length=MAX_FIELD)


class LetterEdit(BaseModel):
    """What changes: a new text (a new version; the old ones stay), a title, or who it
    was for ('' for no one). Anything left out stays as it is."""

    text: Text | None = None
    title: Text | None = Field(None, max_length=MAX_FIELD)
    written_for: Text | None = Field(None, max_length=MAX_FIELD)


class AnswerIn(BaseModel):
    """His answer to her suggestions: those ``numbers``, or every waiting one of
    ``kind``, or (neither given) every one still waiting."""

    decision: Literal["accepted", "rejected"]
    numbers: list[Annotated[int, Field(ge=1, le=1_000_000)]] = Field([], max_length=1000)
    kind: EditKind | None = None

    @model_validator(mode="after")
    def one_way(self) -> AnswerIn:
        if self.numbers and self.kind is not None:
            raise ValueError("give the suggestions' numbers or a kind, not both")
        return self


class ChoiceIn(BaseModel):
    """Among the letters for the book, or not; with why."""

    chosen: bool
    reason: Text = Field("", max_length=MAX_REASON)


class SuggestionOut(BaseModel):
    """Her suggestion ``number``: ``text[start:end]`` (``original``) becomes
    ``replacement``. ``decision`` is '' while it waits; ``fits`` is false once the letter
    no longer holds those words there (it changed since she read it)."""

    number: int
    start: int
    end: int
    original: str
    replacement: str
    kind: EditKind
    reason: str
    source: str
    decision: str
    fits: bool


class VersionInfo(BaseModel):
    number: int
    note: str
    created_at: float
    words: int


class VersionOut(VersionInfo):
    text: str


class LetterSummary(BaseModel):
    """A letter in the list: everything but its text. ``waiting``: her suggestions on it
    still waiting for his answer."""

    id: int
    title: str
    written_for: str
    version: int
    chosen: bool
    chosen_reason: str
    created_at: float
    updated_at: float
    words: int
    waiting: int


class LetterOut(LetterSummary):
    """One letter whole: its text, her suggestions on it, and its versions."""

    text: str
    suggestions: list[SuggestionOut]
    versions: list[VersionInfo]


class AddedOut(BaseModel):
    """The letter kept, and what he should know about how it was read."""

    letter: LetterOut
    notes: list[str]


class OutcomeOut(BaseModel):
    """What his answers did: the letter (a new version once none waits), and how many of
    her suggestions were accepted, rejected and still wait."""

    letter: LetterOut
    accepted: int
    rejected: int
    waiting: int


class BookOut(BaseModel):
    """The letters chosen for the book, in the book's order."""

    letters: list[LetterSummary]


class PreviewOut(BaseModel):
    """The book's first pages as PNG images (base64), and how many pages it has."""

    pages: list[str]
    page_count: int


def words(text: str) -> int:
    return len(text.split())


def summary(letter: Letter, waiting: int) -> LetterSummary:
    return LetterSummary(id=letter.id, title=letter.title, written_for=letter.written_for,
                         version=letter.version, chosen=letter.chosen,
                         chosen_reason=letter.chosen_reason, created_at=letter.created_at,
                         updated_at=letter.updated_at, words=words(letter.text),
                         waiting=waiting)


def suggestion_out(letter: Letter, s: Suggestion) -> SuggestionOut:
    e = s.edit
    fits = 0 <= e.start <= e.end <= len(letter.text) and \
        letter.text[e.start:e.end] == e.original
    return SuggestionOut(number=s.number, start=e.start, end=e.end, original=e.original,
                         replacement=e.replacement, kind=e.kind, reason=e.reason,
                         source=e.source, decision=s.decision, fits=fits)


def version_info(v: LetterVersion) -> VersionInfo:
    return VersionInfo(number=v.number, note=v.note, created_at=v.created_at,
                       words=words(v.text))


def version_out(v: LetterVersion) -> VersionOut:
    return VersionOut(number=v.number, note=v.note, created_at=v.created_at,
                      words=words(v.text), text=v.text)


def letter_out(letter: Letter, suggestions: list[Suggestion],
               versions: list[LetterVersion]) -> LetterOut:
    waiting = sum(1 for s in suggestions if not s.decision)
    return LetterOut(**summary(letter, waiting).model_dump(), text=letter.text,
                     suggestions=[suggestion_out(letter, s) for s in suggestions],
                     versions=[version_info(v) for v in versions])


def outcome_out(outcome: Outcome, letter: LetterOut) -> OutcomeOut:
    return OutcomeOut(letter=letter, accepted=outcome.accepted, rejected=outcome.rejected,
                      waiting=outcome.waiting)
