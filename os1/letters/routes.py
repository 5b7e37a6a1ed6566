"""His letters over HTTP, for the web page's Letters view: the same operations as ``os1
letters`` (list, show, add, edit, remove, versions, her suggestions and his answers, the
letters chosen for the book) and a preview of the book's first pages. ``os1 serve``
mounts this router under ``/api/skills/letters`` behind the login token.

Whose letters a request reaches comes only from ``RoutePerson`` (the token's person),
never from what the request says, so one person can't name another's letter: it is "not
there" (404), exactly as a letter that never was.

Why there is no route to read a letter over: that needs her model, which is everyone's,
one turn at a time; the page asks her in a conversation turn instead.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from os1.errors import InputError
from os1.letters.his_letters import HisLetters
from os1.letters.library import LetterNotFound
from os1.letters.reading import ReadLetter, read_letter
from os1.letters.route_bodies import (
    AddedOut,
    AnswerIn,
    BookOut,
    ChoiceIn,
    LetterEdit,
    LetterFileIn,
    LetterIn,
    LetterOut,
    LetterSummary,
    OutcomeOut,
    PreviewOut,
    SuggestionOut,
    VersionOut,
    letter_out,
    outcome_out,
    suggestion_out,
    summary,
    version_out,
)
from os1.skills.contract import Person
from os1.skills.route_person import RoutePerson
from os1.storage.setups import SetupStore

MAX_ID = 2**31 - 1  # the databases' INTEGER
PASTED = "The letter"  # how a pasted letter is named in a refusal: "The letter is empty."
BOOK_TITLE = "Letters"
NO_AUTHOR = "Anonymous"
PREVIEW_PAGES = 4
PREVIEW_PPI = 110.0


class NotThere(InputError):
    """Asked for something this person has none of: answered 404."""


class LettersRoute(APIRoute):
    """Answers "no such letter of yours" with 404 in the server's error shape (every
    other error is answered by the server's own handlers)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await handle(request)
            except (LetterNotFound, NotThere) as error:
                return JSONResponse({"error": {"message": str(error), "type": "not_found",
                                               "hint": error.hint}}, 404)

        return handler


router = APIRouter(route_class=LettersRoute)

LetterId = Annotated[int, Path(ge=1, le=MAX_ID)]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_ID)]


def his_letters(person: RoutePerson) -> HisLetters:
    """The token's person's letters (no model: a route can't have it)."""
    return HisLetters(person.db, person.settings.user)


Letters = Annotated[HisLetters, Depends(his_letters)]


def whole(letters: HisLetters, letter_id: int) -> LetterOut:
    letter = letters.library.get(letter_id)
    return letter_out(letter, letters.reviews.suggestions(letter_id),
                      letters.library.versions(letter_id))


@router.get("/letters", response_model=list[LetterSummary])
def list_letters(letters: Letters) -> list[LetterSummary]:
    """Your letters, oldest first (the book's order)."""
    return [summary(letter, sum(1 for s in letters.reviews.suggestions(letter.id)
                                if not s.decision))
            for letter in letters.library.all()]


@router.post("/letters", response_model=AddedOut, status_code=201)
def add_letter(letters: Letters, body: Annotated[LetterIn, Body()]) -> AddedOut:
    """Keep a letter written or pasted in."""
    given = read_letter(body.text.encode("utf-8"), PASTED)
    return _added(letters, given, body.title, body.written_for)


@router.post("/letters/file", response_model=AddedOut, status_code=201)
def add_letter_file(letters: Letters, body: Annotated[LetterFileIn, Body()]) -> AddedOut:
    """Keep the letter in a file: plain text, Markdown or a Word document (.docx)."""
    try:
        data = base64.b64decode(body.data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"The file {body.name} didn't arrive whole: its data isn't "
                         "base64.", "Send the file's bytes in base64.") from exc
    return _added(letters, read_letter(data, body.name), body.title, body.written_for)


def _added(letters: HisLetters, given: ReadLetter, title: str, written_for: str) -> AddedOut:
    letter = letters.library.add(given.text, title or given.title, written_for)
    return AddedOut(letter=whole(letters, letter.id), notes=list(given.notes))


@router.get("/letters/{letter_id}", response_model=LetterOut)
def get_letter(letters: Letters, letter_id: LetterId) -> LetterOut:
    """The letter as it is now, her suggestions on it, and its versions."""
    return whole(letters, letter_id)


@router.patch("/letters/{letter_id}", response_model=LetterOut)
def edit_letter(letters: Letters, letter_id: LetterId,
                body: Annotated[LetterEdit, Body()]) -> LetterOut:
    """A new text (a new version: the old ones are kept), title or who it was for."""
    letters.library.get(letter_id)
    text = None if body.text is None else read_letter(body.text.encode("utf-8"), PASTED).text
    if body.title is not None or body.written_for is not None:
        letters.library.describe(letter_id, body.title, body.written_for)
    if text is not None:
        letters.library.revise(letter_id, text, "edited")
    return whole(letters, letter_id)


@router.delete("/letters/{letter_id}", response_model=LetterSummary)
def remove_letter(letters: Letters, letter_id: LetterId) -> LetterSummary:
    """The letter gone, with all its versions and her suggestions on it."""
    return summary(letters.library.remove(letter_id), 0)


@router.get("/letters/{letter_id}/versions", response_model=list[VersionOut])
def versions(letters: Letters, letter_id: LetterId) -> list[VersionOut]:
    """Every version of the letter, the first first."""
    return [version_out(v) for v in letters.library.versions(letter_id)]


@router.get("/letters/{letter_id}/versions/{number}", response_model=VersionOut)
def version(letters: Letters, letter_id: LetterId, number: VersionNumber) -> VersionOut:
    every = letters.library.versions(letter_id)
    found = [v for v in every if v.number == number]
    if not found:
        raise NotThere(f"Letter {letter_id} has no version {number}; it has "
                       f"{len(every)}.")
    return version_out(found[0])


@router.get("/letters/{letter_id}/suggestions", response_model=list[SuggestionOut])
def suggestions(letters: Letters, letter_id: LetterId) -> list[SuggestionOut]:
    """Her suggestions on the letter, each with his answer so far ('' for none)."""
    letter = letters.library.get(letter_id)
    return [suggestion_out(letter, s) for s in letters.reviews.suggestions(letter_id)]


@router.post("/letters/{letter_id}/suggestions/answer", response_model=OutcomeOut)
def answer(letters: Letters, letter_id: LetterId,
           body: Annotated[AnswerIn, Body()]) -> OutcomeOut:
    """Accept or reject her suggestions: by number, all of a kind, or all still waiting.
    Once none waits, the accepted ones make the letter's next version."""
    letters.library.get(letter_id)
    outcome = letters.reviews.decide(letter_id, body.decision, body.numbers, body.kind)
    return outcome_out(outcome, whole(letters, letter_id))


@router.post("/letters/{letter_id}/suggestions/finish", response_model=OutcomeOut)
def finish(letters: Letters, letter_id: LetterId) -> OutcomeOut:
    """Make the accepted suggestions now; those not answered are dropped."""
    letters.library.get(letter_id)
    outcome = letters.reviews.finish(letter_id)
    return outcome_out(outcome, whole(letters, letter_id))


@router.put("/letters/{letter_id}/chosen", response_model=LetterOut)
def choose(letters: Letters, letter_id: LetterId, body: Annotated[ChoiceIn, Body()]
           ) -> LetterOut:
    """In the book (among the best, with why), or out of it."""
    letters.library.choose(letter_id, body.chosen, body.reason)
    return whole(letters, letter_id)


@router.get("/book", response_model=BookOut)
def book(letters: Letters) -> BookOut:
    """The letters chosen for the book, in its order."""
    return BookOut(letters=[summary(letter, 0) for letter in letters.library.chosen()])


@router.get("/book/preview", response_model=PreviewOut)
def preview(letters: Letters, person: RoutePerson,
            pages: Annotated[int, Query(ge=1, le=PREVIEW_PAGES)] = 3) -> PreviewOut:
    """The book's first ``pages`` pages, typeset as the PDF is, as PNG images."""
    from os1.letters.book import BookLetter, BookPlan, preview_pages  # typst: loaded late

    chosen = letters.library.chosen()
    if not chosen:
        raise NotThere("No letters are chosen for the book yet, so there is no book to "
                       "show.", "Choose a letter for the book first.")
    plan = BookPlan(BOOK_TITLE, author(person),
                    [BookLetter(c.title, c.written_for, c.text) for c in chosen])
    every = preview_pages(plan, pages=10_000, ppi=PREVIEW_PPI)
    shown = [base64.b64encode(png).decode("ascii") for png in every[:pages]]
    return PreviewOut(pages=shown, page_count=len(every))


def author(person: Person) -> str:
    """The name he gave her at setup, as the book's author ("Anonymous" before one)."""
    setup = SetupStore(person.db, person.settings.user).current()
    return setup.user_name.strip() if setup is not None and setup.user_name.strip() \
        else NO_AUTHOR
