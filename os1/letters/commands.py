"""``os1 letters``: his letters (add, list, show, edit, remove, every version kept), her
reading of one (``check``), his answers to her suggestions (``accept``, ``reject``,
``done``) and the letters chosen for the book. The group the letters skill adds to the
``os1`` command (``LettersSkill.commands``)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from os1.config import Settings
from os1.errors import InputError
from os1.letters.best import choose_best
from os1.letters.book import file_stem
from os1.letters.his_letters import NOT_ENGLISH, HisLetters, Reading, her_name
from os1.letters.praise import praise
from os1.letters.reading import read_letter
from os1.letters.records import EDIT_KINDS, Letter
from os1.letters.review import Outcome, Suggestion
from os1.letters.submission_commands import SUBMISSION_COMMANDS
from os1.llm.base import Model
from os1.storage.artefacts import Artefact
from os1.storage.db import Database
from os1.storage.setups import user_name
from os1.ui.commands import (
    account_option,
    count_bar,
    date_text,
    err,
    model_options,
    opened,
    out,
    settings_from,
    task_progress,
)

F = TypeVar("F", bound=Any)
CONTEXT = 30  # characters of his letter shown either side of a suggestion


@contextmanager
def letters_of(settings: Settings) -> Iterator[HisLetters]:
    db = Database.open(settings.storage)
    try:
        yield HisLetters(db, settings.user)
    finally:
        db.close()


@click.group(name="letters")
@account_option
def letters_group() -> None:
    """Your letters: kept with every version, read over by her, the best made a book."""


@letters_group.command(name="add")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--title", default="", help="Its title (else its first line).")
@click.option("--for", "written_for", default="", metavar="NAME",
              help="Who you wrote it for.")
@click.pass_obj
def add(settings: Settings, file: Path, title: str, written_for: str) -> None:
    """Keep the letter in FILE (text, Markdown or .docx; - reads what you paste, ended by
    Ctrl-D)."""
    data = _read_bytes(file)
    given = read_letter(data, "-" if str(file) == "-" else file.name)
    with letters_of(settings) as letters:
        letter = letters.library.add(given.text, title or given.title, written_for)
    for note in given.notes:
        err.print(note, markup=False)
    err.print(f"Kept letter {letter.id}: {letter.title} ({_words(letter)} words). "
              f"Ask her to read it over with: os1 letters check {letter.id}", markup=False)


@letters_group.command(name="list")
@click.pass_obj
def list_letters(settings: Settings) -> None:
    """Your letters, oldest first; ★ marks the ones chosen for the book."""
    with letters_of(settings) as letters:
        every = letters.library.all()
    if not every:
        err.print("No letters yet. Add one with: os1 letters add FILE", markup=False)
        return
    table = Table("#", "", "title", "for", "words", "version", "changed", box=None)
    for letter in every:
        table.add_row(str(letter.id), "★" if letter.chosen else "", letter.title,
                      letter.written_for, str(_words(letter)), str(letter.version),
                      date_text(letter.updated_at))
    out.print(table)


@letters_group.command(name="show")
@click.argument("letter_id", type=int)
@click.option("--version", "number", type=int, default=None, help="An earlier version.")
@click.option("--versions", "list_versions", is_flag=True, help="List its versions.")
@click.pass_obj
def show(settings: Settings, letter_id: int, number: int | None, list_versions: bool) -> None:
    """Letter LETTER_ID as it is now (or one of its versions)."""
    with letters_of(settings) as letters:
        letter = letters.library.get(letter_id)
        if list_versions:
            for version in letters.library.versions(letter_id):
                out.print(f"{version.number}  {date_text(version.created_at)}  "
                          f"{version.note}", markup=False)
            return
        text = letter.text if number is None else \
            letters.library.version(letter_id, number).text
    heading = f"{letter.title}" + (f" (for {letter.written_for})" if letter.written_for
                                   else "")
    err.print(f"{heading}: version {number or letter.version} of {letter.version}",
              markup=False)
    out.print(text, markup=False)


@letters_group.command(name="edit")
@click.argument("letter_id", type=int)
@click.argument("file", required=False,
                type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--title", default=None, help="A new title.")
@click.option("--for", "written_for", default=None, metavar="NAME",
              help="Who it was for ('' for no one).")
@click.pass_obj
def edit(settings: Settings, letter_id: int, file: Path | None, title: str | None,
         written_for: str | None) -> None:
    """A new version of letter LETTER_ID from FILE (or in your $EDITOR); the old one is
    kept."""
    with letters_of(settings) as letters:
        letter = letters.library.get(letter_id)
        if title is not None or written_for is not None:
            letter = letters.library.describe(letter_id, title, written_for)
        if file is not None:
            text = read_letter(_read_bytes(file), file.name).text
        elif title is None and written_for is None:
            edited = click.edit(letter.text, extension=".txt")
            if edited is None:
                err.print("Nothing changed.", markup=False)
                return
            text = edited
        else:
            text = letter.text
        after = letters.library.revise(letter_id, text, "edited")
    if after.version == letter.version:
        err.print(f"Letter {letter_id} is unchanged (version {after.version}).",
                  markup=False)
    else:
        err.print(f"Letter {letter_id} is at version {after.version}; the earlier ones are "
                  "kept.", markup=False)


@letters_group.command(name="remove")
@click.argument("letter_id", type=int)
@click.option("--yes", is_flag=True, help="Don't ask first.")
@click.pass_obj
def remove(settings: Settings, letter_id: int, yes: bool) -> None:
    """Remove letter LETTER_ID with all its versions."""
    with letters_of(settings) as letters:
        letter = letters.library.get(letter_id)
        if not yes:
            click.confirm(f"Remove “{letter.title}” and its {letter.version} version(s)?",
                          abort=True, err=True)
        letters.library.remove(letter_id)
    err.print(f"Removed letter {letter_id}.", markup=False)


@letters_group.command(name="check")
@click.argument("letter_id", type=int)
@click.option("--flow", is_flag=True, help="Make it flow: reword for smoothness too.")
@model_options
@click.pass_context
def check(ctx: click.Context, letter_id: int, flow: bool, model: str | None,
          endpoint_model: str | None) -> None:
    """Ask her to read letter LETTER_ID over; answer with accept / reject."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    with opened(settings) as (db, llm):
        letters = HisLetters(db, settings.user, lambda: llm)
        letters.library.get(letter_id)
        bar = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = count_bar("Reading it over", total)
            bar(1)

        reading = letters.read_over(letter_id, flow, progress)
        liked = "" if flow or reading.note == NOT_ENGLISH else praise(
            llm, reading.letter.text, her_name(db, settings.user),
            user_name(db, settings.user), reading.letter.written_for)
    if liked:
        out.print(liked + "\n", markup=False)
    _print_reading(reading)


@letters_group.command(name="suggestions")
@click.argument("letter_id", type=int)
@click.pass_obj
def suggestions(settings: Settings, letter_id: int) -> None:
    """Her suggestions on letter LETTER_ID that wait for your answer."""
    with letters_of(settings) as letters:
        letter = letters.library.get(letter_id)
        every = letters.reviews.suggestions(letter_id)
    if not every:
        err.print(f"No suggestions wait on letter {letter_id}.", markup=False)
    _print_suggestions(letter, every)


def _answer_options(command: F) -> F:
    command = click.option("--kind", type=click.Choice(EDIT_KINDS), default=None,
                           help="Every suggestion of this kind.")(command)
    command = click.argument("numbers", type=int, nargs=-1)(command)
    return click.argument("letter_id", type=int)(command)


@letters_group.command(name="accept")
@_answer_options
@click.pass_obj
def accept(settings: Settings, letter_id: int, numbers: tuple[int, ...],
           kind: str | None) -> None:
    """Take her suggestions NUMBERS on letter LETTER_ID (none given: all, or --kind)."""
    with letters_of(settings) as letters:
        outcome = letters.reviews.decide(letter_id, "accepted", numbers, kind)
    _print_outcome(outcome)


@letters_group.command(name="reject")
@_answer_options
@click.pass_obj
def reject(settings: Settings, letter_id: int, numbers: tuple[int, ...],
           kind: str | None) -> None:
    """Say no to her suggestions NUMBERS (none given: all, or --kind); she won't make
    them again."""
    with letters_of(settings) as letters:
        outcome = letters.reviews.decide(letter_id, "rejected", numbers, kind)
    _print_outcome(outcome)


@letters_group.command(name="done")
@click.argument("letter_id", type=int)
@click.pass_obj
def done(settings: Settings, letter_id: int) -> None:
    """Make the suggestions you accepted now, leaving the unanswered ones."""
    with letters_of(settings) as letters:
        outcome = letters.reviews.finish(letter_id)
    _print_outcome(outcome)


@letters_group.command(name="choose")
@click.argument("letter_id", type=int)
@click.option("--reason", default="", help="Why it belongs in the book.")
@click.option("--no", "unchoose", is_flag=True, help="Take it out of the book.")
@click.pass_obj
def choose(settings: Settings, letter_id: int, reason: str, unchoose: bool) -> None:
    """Put letter LETTER_ID among the best, for the book (or take it out with --no)."""
    with letters_of(settings) as letters:
        letter = letters.library.choose(letter_id, not unchoose, reason)
    state = "is among the best" if letter.chosen else "is not in the book"
    err.print(f"Letter {letter_id} ({letter.title}) {state}.", markup=False)


@letters_group.command(name="best")
@model_options
@click.pass_context
def best(ctx: click.Context, model: str | None, endpoint_model: str | None) -> None:
    """Ask her which letters are the best, and why; she puts them in the book (the ones
    you chose stay chosen)."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    with opened(settings) as (db, llm):
        letters = HisLetters(db, settings.user, lambda: llm)
        every = letters.library.all()
        if not every:
            raise InputError("You have no letters yet.", "Add one with: os1 letters add FILE")
        with task_progress() as bars:
            task = bars.add_task("Reading your letters", total=len(every))
            chosen = choose_best(llm, every, her_name(db, settings.user),
                                 user_name(db, settings.user),
                                 lambda done, total: bars.update(task, completed=done))
        for choice in chosen:
            letters.library.choose(choice.letter.id, True, choice.reason)
    for choice in chosen:
        out.print(f"★ {choice.letter.id}. {choice.letter.title}: {choice.reason}",
                  markup=False)
    err.print("Change her choice with: os1 letters choose N (--no to take one out).",
              markup=False)


@letters_group.command(name="book")
@click.option("--title", default="Letters", show_default=True, help="The book's title.")
@click.option("--author", default=None, help="Whose name is on it (default: yours).")
@click.option("--foreword", "with_foreword", is_flag=True, help="She writes a foreword.")
@click.option("--anonymise", is_flag=True,
              help="Replace the names of the people the letters were for.")
@click.option("--handwriting", is_flag=True, help="His closings in a handwriting face.")
@click.option("--out", "out_dir", default=None,
              type=click.Path(file_okay=False, path_type=Path),
              help="Also copy the PDF and EPUB into this folder.")
@model_options
@click.pass_context
def book(ctx: click.Context, title: str, author: str | None, with_foreword: bool,
         anonymise: bool, handwriting: bool, out_dir: Path | None, model: str | None,
         endpoint_model: str | None) -> None:
    """The letters chosen for the book as a PDF (typst) and an EPUB 3, kept among your
    things (os1 things)."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    if with_foreword:
        with opened(settings) as (db, llm):
            things = _book(settings, db, lambda: llm, title, author, True, anonymise,
                           handwriting)
    else:
        with letters_of(settings) as letters:
            things = _book(settings, letters.db, lambda: None, title, author, False,
                           anonymise, handwriting)
    for thing in things:
        if thing.path is not None and out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            target = out_dir / f"{file_stem(title)}{thing.path.suffix}"
            shutil.copyfile(thing.path, target)
            out.print(str(target), markup=False)
        elif thing.path is not None:
            out.print(str(thing.path), markup=False)
    err.print(f"The book “{title}” is kept among your things (os1 things).", markup=False)


def _book(settings: Settings, db: Database, model: Callable[[], Model | None], title: str,
          author: str | None, with_foreword: bool, anonymise: bool,
          handwriting: bool) -> list[Artefact]:
    letters = HisLetters(db, settings.user, model)
    return letters.book(settings.home, title, author or user_name(db, settings.user),
                        her_name(db, settings.user), with_foreword, anonymise, handwriting)


def _print_reading(reading: Reading) -> None:
    if reading.note:
        out.print(reading.note, markup=False)
    _print_suggestions(reading.letter, reading.suggestions)


def _print_suggestions(letter: Letter, every: list[Suggestion]) -> None:
    for s in every:
        e = s.edit
        before = letter.text[max(0, e.start - CONTEXT):e.start].split("\n")[-1]
        after = letter.text[e.end:e.end + CONTEXT].split("\n")[0]
        answer = f" [{s.decision}]" if s.decision else ""
        out.print(f"{s.number}. {e.kind}{answer}: “{e.original}” → “{e.replacement}”"
                  f"   …{before}[{e.original}]{after}…\n   {e.reason}", markup=False)
    if any(not s.decision for s in every):
        err.print(f"Answer with: os1 letters accept {letter.id} [NUMBERS] / os1 letters "
                  f"reject {letter.id} [NUMBERS] (--kind KIND for all of a kind).",
                  markup=False)


def _print_outcome(outcome: Outcome) -> None:
    letter = outcome.letter
    if outcome.waiting:
        err.print(f"{outcome.accepted} accepted, {outcome.rejected} rejected; "
                  f"{outcome.waiting} still wait for your answer (or: os1 letters done "
                  f"{letter.id}).", markup=False)
        return
    err.print(f"Done: {outcome.accepted} accepted, {outcome.rejected} rejected. Letter "
              f"{letter.id} is at version {letter.version}.", markup=False)


def _read_bytes(file: Path) -> bytes:
    if str(file) == "-":
        return sys.stdin.buffer.read()
    try:
        return file.read_bytes()
    except OSError as exc:
        raise InputError(f"Can't read {file}: {exc.strerror}.") from exc


def _words(letter: Letter) -> int:
    return len(letter.text.split())


for _command in SUBMISSION_COMMANDS:  # submit, submissions: in a module of their own
    letters_group.add_command(_command)
