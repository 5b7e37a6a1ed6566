"""``os1 compose``, ``os1 draw`` and ``os1 made``: a piece or drawing made (or changed)
from the command line, and the gallery of what she made, each work with every version.

Why the work is checked before the model loads: ``--revise 7`` for a work that is not
there, or ``--out`` a file type the work can't be, should fail in milliseconds, not after
she has woken up and written a piece no one will keep.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.table import Table

from os1.config import Settings
from os1.errors import ConfigError, InputError, OS1Error
from os1.making.errors import HostileSvg, MakingError, NotWritable, RendererMissing, RenderTimeout
from os1.making.records import Version, Work, WorkKind
from os1.making.studio import Made, Studio
from os1.making.works import EXTENSIONS, Works
from os1.storage.db import Database
from os1.ui.commands import (
    account_option,
    date_text,
    err,
    err_console,
    model_options,
    opened,
    out,
    settings_from,
)

# which file of a work a suffix asks for (--out, export): the first is a kind's default
ROLES: dict[WorkKind, dict[str, str]] = {
    "music": {".wav": "audio", ".mid": "midi", ".midi": "midi", ".abc": "abc",
              ".svg": "sheet"},
    "drawing": {".png": "png", ".svg": "svg"},
}
# what to do about a failure that brings no hint of its own
HINTS: tuple[tuple[type[OS1Error], str], ...] = (
    (RendererMissing, "Install os1's Debian packages again: scripts/bootstrap."),
    (HostileSvg, "Nothing was kept. Ask her again: each drawing is drawn afresh."),
    (RenderTimeout, "Nothing was kept. Ask again, perhaps for something shorter."),
    (NotWritable, "Nothing was kept. Ask again, or say it differently."),
    (MakingError, "Nothing was kept. Ask again in a little while."),
)


@contextmanager
def works_of(settings: Settings) -> Iterator[Works]:
    db = Database.open(settings.storage)
    try:
        yield Works(db, settings.user, settings.home)
    finally:
        db.close()


@contextmanager
def making(what: str) -> Iterator[None]:
    """A spinner while she works; a failure leaves with a hint of what to do."""
    try:
        with err_console.status(what):
            yield
    except OS1Error as exc:
        hint = next((h for kind, h in HINTS if isinstance(exc, kind)), "")
        exc.hint = exc.hint or hint
        raise


# -- os1 compose / os1 draw -----------------------------------------------------------------


@click.command(name="compose")
@click.argument("about", nargs=-1, required=True)
@click.option("--revise", "revise_id", type=int, default=None, metavar="ID",
              help='Change piece ID as ABOUT says ("slower"); its earlier versions stay.')
@click.option("--out", "out_file", default=None,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also copy it here: .wav (sound), .mid, .abc or .svg (sheet music).")
@click.option("--play", is_flag=True, help="Play it through the speakers (the voice extra).")
@model_options
@account_option
@click.pass_context
def compose_command(ctx: click.Context, about: tuple[str, ...], revise_id: int | None,
                    out_file: Path | None, play: bool, model: str | None,
                    endpoint_model: str | None) -> None:
    """Ask her to write a piece of music about ABOUT ("our day at the beach"), or change
    one with --revise ID ("slower", "happier", "longer")."""
    role = _role("music", out_file)
    made = _make(ctx, "music", " ".join(about), revise_id, model, endpoint_model)
    with works_of(ctx.obj) as works:
        _print_made(works, made)
        _copy(works, made.work, made.work.latest.number, role, out_file)
        if play:
            _play(works.file(made.work.id, made.work.latest.number, "audio").path)


@click.command(name="draw")
@click.argument("about", nargs=-1, required=True)
@click.option("--revise", "revise_id", type=int, default=None, metavar="ID",
              help='Change drawing ID as ABOUT says ("make the sky darker").')
@click.option("--out", "out_file", default=None,
              type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="Also copy it here: .png or .svg.")
@model_options
@account_option
@click.pass_context
def draw_command(ctx: click.Context, about: tuple[str, ...], revise_id: int | None,
                 out_file: Path | None, model: str | None, endpoint_model: str | None) -> None:
    """Ask her to draw ABOUT ("us at the beach"), or change a drawing with --revise ID
    ("add a dog")."""
    role = _role("drawing", out_file)
    made = _make(ctx, "drawing", " ".join(about), revise_id, model, endpoint_model)
    with works_of(ctx.obj) as works:
        _print_made(works, made)
        _copy(works, made.work, made.work.latest.number, role, out_file)


def _make(ctx: click.Context, kind: WorkKind, request: str, revise_id: int | None,
          model: str | None, endpoint_model: str | None) -> Made:
    """The work made or changed; InputError, before the model loads, for a work to
    change that is not there or not of this kind, and after, when she did not see how to
    change it (nothing is kept then)."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    before = None
    if revise_id is not None:
        with works_of(settings) as works:
            before = works.get(revise_id)
        if before.kind != kind:
            raise InputError(f"Work {revise_id} is a {_kind_word(before.kind)}, not a "
                             f"{_kind_word(kind)}.",
                             f'Change it with: os1 {_verb(before.kind)} --revise {revise_id} "..."')
    with opened(settings) as (db, llm):
        studio = Studio(db, settings.user, settings.home, lambda: llm)
        with making(_doing(kind, before)):
            if before is None:
                return studio.compose(request) if kind == "music" else studio.draw(request)
            made = studio.revise_piece(before.id, request) if kind == "music" else \
                studio.revise_drawing(before.id, request)
    if made.work.latest.number == before.latest.number:
        raise InputError(made.said, f"For example: os1 {_verb(kind)} --revise {before.id} "
                         + ('"slower"' if kind == "music" else '"make the sky darker"'))
    return made


def _doing(kind: WorkKind, before: Work | None) -> str:
    if kind == "music":
        return ("She's changing the piece, then it becomes sound and sheet music…"
                if before else "She's writing a piece, then it becomes sound and sheet music…")
    return "She's changing the drawing…" if before else "She's drawing…"


# -- os1 made ---------------------------------------------------------------------------


@click.group(name="made", invoke_without_command=True)
@account_option
@click.pass_context
def made_group(ctx: click.Context) -> None:
    """What she made for you: pieces of music and drawings, every version kept."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_works)


@made_group.command(name="list")
@click.option("--kind", type=click.Choice(["music", "drawing"]), default=None,
              help="Only pieces, or only drawings.")
@click.pass_obj
def list_works(settings: Settings, kind: WorkKind | None = None) -> None:
    """Her pieces and drawings, newest first."""
    with works_of(settings) as works:
        every = works.all(kind)
    if not every:
        err.print('Nothing yet. Ask her: os1 compose "our day at the beach", or os1 draw '
                  '"us at the beach".', markup=False)
        return
    table = Table("#", "kind", "title", "versions", "made", box=None)
    for work in every:
        table.add_row(str(work.id), work.kind, work.title, str(len(work.versions)),
                      date_text(work.created_at))
    out.print(table)


@made_group.command(name="show")
@click.argument("work_id", type=int)
@click.option("--version", "number", type=int, default=None, help="An earlier version.")
@click.pass_obj
def show(settings: Settings, work_id: int, number: int | None) -> None:
    """Work WORK_ID: what it is about, her words, its character and its files."""
    with works_of(settings) as works:
        work = works.get(work_id)
        version = _version(work, number)
        out.print(f"{work.id}. {work.title} ({_kind_word(work.kind)}, version "
                  f"{version.number} of {len(work.versions)}, {date_text(version.created_at)})",
                  markup=False)
        out.print(f"About: {work.about}", markup=False)
        if work.moment:
            out.print(f"From: {work.moment}", markup=False)
        if version.request and version.number > 1:
            out.print(f"Asked: {version.request}", markup=False)
        _print_version(works, work, version)


@made_group.command(name="remove")
@click.argument("work_id", type=int)
@click.option("--yes", is_flag=True, help="Don't ask first.")
@click.pass_obj
def remove(settings: Settings, work_id: int, yes: bool) -> None:
    """Remove work WORK_ID with all its versions and files."""
    with works_of(settings) as works:
        work = works.get(work_id)
        if not yes:
            click.confirm(f"Remove “{work.title}” and its {len(work.versions)} version(s)?",
                          abort=True, err=True)
        works.remove(work_id)
    err.print(f"Removed work {work_id}.", markup=False)


@made_group.command(name="export")
@click.argument("work_id", type=int)
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--version", "number", type=int, default=None, help="An earlier version.")
@click.pass_obj
def export(settings: Settings, work_id: int, file: Path, number: int | None) -> None:
    """Copy a file of work WORK_ID to FILE; its suffix says which (a piece: .wav, .mid,
    .abc, .svg; a drawing: .png, .svg)."""
    with works_of(settings) as works:
        work = works.get(work_id)
        version = _version(work, number)
        _copy(works, work, version.number, _role(work.kind, file), file)


# -- shared ---------------------------------------------------------------------------


def _role(kind: WorkKind, file: Path | None) -> str | None:
    """The file of a work that ``file``'s suffix asks for; InputError for any other."""
    if file is None:
        return None
    roles = ROLES[kind]
    role = roles.get(file.suffix.lower())
    if role is None:
        raise InputError(f"A {_kind_word(kind)} can't be saved as {file.name!r}.",
                         "Name a file ending in " + ", ".join(roles) + ".")
    return role


def _version(work: Work, number: int | None) -> Version:
    if number is None:
        return work.latest
    found = next((v for v in work.versions if v.number == number), None)
    if found is None:
        raise InputError(f"“{work.title}” has no version {number}; it has "
                         f"{len(work.versions)}.", f"See it with: os1 made show {work.id}")
    return found


def _copy(works: Works, work: Work, number: int, role: str | None, target: Path | None
          ) -> None:
    if role is None or target is None:
        return
    source = works.file(work.id, number, role).path
    assert source is not None  # Works.file says so
    try:
        shutil.copyfile(source, target)
    except OSError as exc:
        raise InputError(f"Can't write {target}: {exc.strerror or exc}.",
                         "Choose a folder you can write to.") from exc
    err.print(f"Copied the {role} of “{work.title}” to {target}.", markup=False,
              soft_wrap=True)


def _print_made(works: Works, made: Made) -> None:
    work = made.work
    out.print(made.said + "\n", markup=False)
    err.print(f"Work {work.id}, version {work.latest.number}: {work.title}", markup=False)
    _print_version(works, work, work.latest, words=False)


def _print_version(works: Works, work: Work, version: Version, words: bool = True) -> None:
    """Its character or plan and its files; her words too, unless just said."""
    if words and version.her_words:
        out.print(f"Her words: {version.her_words}", markup=False)
    character = version.character
    if character is not None:
        out.print(f"{character.key} {character.mode}, {character.tempo} beats a minute, "
                  f"{character.meter}, {character.instrument}, {character.bars} bars",
                  markup=False)
    for line in version.plan:
        out.print(f"  · {line}", markup=False)
    for role in version.files:
        try:
            path = works.file(work.id, version.number, role).path
        except InputError:
            path = None
        shown = str(path) if path is not None else "(gone)"
        out.print(f"{role} ({EXTENSIONS[role]}): {shown}", markup=False, soft_wrap=True)


def _play(path: Path | None) -> None:
    """The WAV through the speakers; a clear message, not a failure, where it can't be:
    the piece is kept either way."""
    try:
        import sounddevice
        import soundfile
    except (ImportError, OSError):
        err.print("It can't be played here: playing needs the voice extra (sounddevice, "
                  'soundfile, PortAudio). Install it with: pip install -e ".[voice]", or '
                  "open the .wav file above in any player.", markup=False)
        return
    if path is None:
        raise ConfigError("The piece's sound file is gone.")
    try:
        samples, rate = soundfile.read(str(path), dtype="float32")
        with err_console.status("Playing… (Ctrl-C stops it)"):
            sounddevice.play(samples, rate)
            sounddevice.wait()
    except (sounddevice.PortAudioError, OSError) as exc:
        err.print(f"It can't be played here: no speakers could be opened ({exc}). Open "
                  "the .wav file above in any player.", markup=False)


def _kind_word(kind: WorkKind) -> str:
    return "piece of music" if kind == "music" else "drawing"


def _verb(kind: WorkKind) -> str:
    return "compose" if kind == "music" else "draw"
