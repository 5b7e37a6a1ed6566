"""``os1 setup``: the first-run questions, asked on a terminal or given as flags or a
file, then she chooses her name."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from os1.errors import OS1Error
from os1.llm.base import Model
from os1.mind.setup import (
    SetupAnswers,
    SetupScript,
    complete_setup,
    read_answers_file,
    validate_answers,
)
from os1.storage.setups import SetupRecord, SetupStore
from os1.ui.commands import SETUP_HINT, err_console, model_options, opened, settings_from
from os1.ui.input import decode_text


@click.command()
@model_options
@click.option("--again", is_flag=True, help="Redo the setup (the old one is kept as history).")
@click.option("--name", default=None, help="Your name.")
@click.option("--answer", "answer_pairs", multiple=True, metavar="KEY=TEXT",
              help="An answer to a setup question (social, mother, hope).")
@click.option("--voice", type=click.Choice(["female", "male"]), default=None)
@click.option("--answers-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Answers as JSON or TOML ('-' for stdin).")
@click.pass_context
def setup(ctx: click.Context, model: str | None, endpoint_model: str | None, again: bool,
          name: str | None, answer_pairs: tuple[str, ...], voice: str | None,
          answers_file: Path | None) -> None:
    """The first-run setup: a few questions, then she chooses her name."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    given = _answers_from_flags(name, answer_pairs, voice, answers_file)
    with opened(settings) as (db, llm):
        store = SetupStore(db, settings.user)
        current = store.current()
        if current is not None and not again:
            raise OS1Error(f"She is already set up: she is {current.companion_name}.",
                           "Use os1 setup --again to start over (her old self is kept).")
        out = Console(highlight=False)
        if given is None:
            if not sys.stdin.isatty():
                raise OS1Error("Setup needs answers.", SETUP_HINT)
            run_interactive_setup(out, llm, store)
            return
        script = SetupScript.load()
        chosen_voice = given.pop("voice", script.default_voice)
        answers = validate_answers(script, given, chosen_voice)
        record = _name_her(llm, store, script, answers)
        out.print(f"{record.companion_name}: {record.name_reason}", markup=False)


def _answers_from_flags(name: str | None, pairs: tuple[str, ...], voice: str | None,
                        answers_file: Path | None) -> dict[str, str] | None:
    answers: dict[str, str] = {}
    if answers_file is not None:
        raw = sys.stdin.buffer.read() if str(answers_file) == "-" else _read(answers_file)
        answers.update(read_answers_file(decode_text(raw)[0]))
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not KEY=TEXT", param_hint="--answer")
        answers[key.strip()] = value
    if name is not None:
        answers["name"] = name
    if voice is not None:
        answers["voice"] = voice
    return answers or None


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise OS1Error(f"Can't read the answers file {path}: {exc.strerror}.") from exc


def run_interactive_setup(out: Console, llm: Model, store: SetupStore) -> None:
    script = SetupScript.load()
    out.print(f"\n[italic]{script.welcome}[/italic]\n")
    answers: dict[str, str] = {}
    for question in script.questions:
        while not (reply := out.input(f"[bold]{question.ask}[/bold] ").strip()) \
                and question.key == "name":
            out.print("[dim]I need at least a name to call you by.[/dim]")
        answers[question.key] = reply
    choices = "/".join(script.voices)
    voice = ""
    while voice not in script.voices:
        voice = (out.input(f"[bold]{script.voice_question}[/bold] ({choices}) ").strip().lower()
                 or script.default_voice)
    record = _name_her(llm, store, script, validate_answers(script, answers, voice))
    out.print(f"\n[dim]She chose a name: {record.companion_name}.[/dim]\n")


def _name_her(llm: Model, store: SetupStore, script: SetupScript,
              answers: SetupAnswers) -> SetupRecord:
    with err_console.status(script.thank_you):
        return complete_setup(llm, store, script, answers)


COMMANDS = (setup,)
