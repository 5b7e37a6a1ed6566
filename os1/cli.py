"""The ``os1`` command. Each subcommand is a thin shell over the parts in os1/."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TimeRemainingColumn,
)

from os1.calendar.reminders import ReminderBell, Reminders
from os1.config import Settings, load_settings
from os1.errors import OS1Error
from os1.llm.base import Model
from os1.llm.bundled import CHAT_MODEL, ProgressFn, ensure_assembled
from os1.llm.llama import LlamaModel
from os1.llm.resolve import describe_spec, open_model
from os1.memory.embedders import open_embedder
from os1.mind.companion import Companion
from os1.mind.critic import Critic
from os1.mind.memory_session import MemorySession, open_memory
from os1.mind.secretary import secretary_desks
from os1.mind.setup import (
    SetupAnswers,
    SetupScript,
    complete_setup,
    read_answers_file,
    validate_answers,
)
from os1.mind.steering import Steering
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupRecord, SetupStore
from os1.ui.input import decode_text
from os1.ui.streams import kept
from os1.ui.terminal import TerminalChat

F = TypeVar("F", bound=Callable[..., Any])
err_console = Console(stderr=True)


def model_options(command: F) -> F:
    command = click.option("--endpoint-model", default=None,
                           help="Model name to ask an OpenAI-compatible server for.")(command)
    command = click.option("--model", "-m", default=None, metavar="SPEC",
                           help="bundled (default), a .gguf path, an Ollama model name, "
                                "or an OpenAI-compatible base URL.")(command)
    return command


def settings_from(ctx: click.Context, **flags: Any) -> Settings:
    settings: Settings = ctx.obj
    return settings.with_overrides(**flags)


@click.group()
@click.version_option(package_name="os1")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """os1: an operating system with a mind, on your own machine."""
    ctx.obj = load_settings()


# -- chat, say -------------------------------------------------------------------------


@cli.command()
@model_options
@click.option("--greet/--no-greet", default=None,
              help="Greet on start (default: only on a terminal).")
@click.option("--server", default=None, metavar="URL",
              help="Talk with her on an os1 serve server (log in first: os1 login URL).")
@click.pass_context
def chat(ctx: click.Context, model: str | None, endpoint_model: str | None,
         greet: bool | None, server: str | None) -> None:
    """Talk with her. Piped input: one message per line, replies on stdout."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    interactive = sys.stdin.isatty()
    if interactive:
        sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
    # her words and notices go where stdout and stderr point now: a model loading in
    # another thread moves those for a while (see ui/streams.py)
    out = Console(file=kept(sys.stdout), highlight=False)
    err = Console(file=kept(sys.stderr))
    if server is not None:
        from os1.ui.remote import LoginStore, RemoteCompanion

        remote = RemoteCompanion(server, LoginStore(settings.home / "servers.json")
                                 .token_for(server))
        try:
            TerminalChat(remote, out, err, interactive).run(greet=False)
        finally:
            remote.close()
        return
    if not interactive:
        require_setup(settings)
    with opened(settings, conversation=True) as (db, llm), remembering(settings, db, llm) as memory:
        companion = with_memory(llm, db, settings, memory)
        memory.worker.start()
        ui = TerminalChat(companion, out, err, interactive)
        if SetupStore(db, settings.user).current() is None:
            run_interactive_setup(out, llm, SetupStore(db, settings.user))
            ui.show(companion.introduce())
            greet = False
        with reminding(settings, db, ui.notice):
            ui.run(greet=interactive if greet is None else greet)


@cli.command()
@model_options
@click.argument("words", nargs=-1, required=True)
@click.pass_context
def say(ctx: click.Context, model: str | None, endpoint_model: str | None,
        words: tuple[str, ...]) -> None:
    """Say one thing and print her reply ("-" reads the message from stdin)."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    out, err = Console(file=kept(sys.stdout), highlight=False), Console(file=kept(sys.stderr))
    if words == ("-",):
        text, problem = decode_text(sys.stdin.buffer.read().removesuffix(b"\n")
                                    .removesuffix(b"\r"))
        if problem:
            err_console.print(problem, markup=False)
    else:
        text = " ".join(words)
    require_setup(settings)
    with opened(settings, conversation=True) as (db, llm), remembering(settings, db, llm) as memory:
        companion = with_memory(llm, db, settings, memory)
        companion.open_session("say")
        said = TerminalChat(companion, out, err, False).say(text)
        # One-shot: the exchange is kept as moments now; the model's extraction waits for
        # the next chat (or `os1 memory process`).
        memory.worker.catch_up(db, use_model=False)
        if not said:
            sys.exit(1)


# -- setup -----------------------------------------------------------------------------

SETUP_HINT = ("Run `os1 chat` on a terminal to meet her, or give the answers: "
              "os1 setup --name NAME [--answer social=...] [--voice female|male] "
              "or --answers-file FILE.")


@cli.command()
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


# -- history, model --------------------------------------------------------------------


@cli.command()
@click.option("--limit", default=20, show_default=True, help="How many messages to show.")
@click.pass_context
def history(ctx: click.Context, limit: int) -> None:
    """Show the end of your conversation with her."""
    settings: Settings = ctx.obj
    db = Database.open(settings.storage)
    try:
        setup_record = SetupStore(db, settings.user).current()
        her = setup_record.companion_name if setup_record else "her"
        messages = ConversationLog(db, settings.user).recent(limit)
        if not messages:
            click.echo("You haven't talked with her yet: start with os1 chat.", err=True)
        for message in messages:
            who = her if message.role == "assistant" else "you"
            mark = " (interrupted)" if message.status == "interrupted" else ""
            click.echo(f"{who}: {message.content}{mark}")
    finally:
        db.close()


@cli.group(name="model")
def model_group() -> None:
    """Manage the bundled model."""


@model_group.command(name="prepare")
@click.pass_context
def model_prepare(ctx: click.Context) -> None:
    """Assemble and verify the bundled model (done automatically on first use)."""
    settings: Settings = ctx.obj
    path = ensure_assembled(CHAT_MODEL, settings.cache_dir, progress_bar)
    click.echo(f"The bundled model is ready: {path}")


# -- plumbing --------------------------------------------------------------------------


def progress_bar(description: str, total: int) -> ProgressFn:
    """A bar over bytes (a model file made)."""
    return _bar(description, total, DownloadColumn())


def count_bar(description: str, total: int) -> ProgressFn:
    """A bar over things (memories re-embedded or indexed)."""
    return _bar(description, total, MofNCompleteColumn())


def _bar(description: str, total: int, column: ProgressColumn) -> ProgressFn:
    progress = Progress("[progress.description]{task.description}", BarColumn(), column,
                        TimeRemainingColumn(), console=err_console, transient=True)
    progress.start()
    task = progress.add_task(description, total=total)

    def advance(n: int) -> None:
        progress.advance(task, n)
        if progress.tasks[0].finished:
            progress.stop()

    return advance


def require_setup(settings: Settings) -> None:
    """Fail before the model loads: a script should learn this in milliseconds."""
    db = Database.open(settings.storage)
    try:
        if SetupStore(db, settings.user).current() is None:
            raise OS1Error("She hasn't been set up yet.", SETUP_HINT)
    finally:
        db.close()


@contextmanager
def opened(settings: Settings, conversation: bool = False) -> Iterator[tuple[Database, Model]]:
    """The database and the model; with ``conversation``, the model's evaluated state from
    the last session is restored first and saved again at the end (see llm/kvcache.py)."""
    db = Database.open(settings.storage)
    try:
        with err_console.status(f"Waking her up ({describe_spec(settings.model)})…"):
            llm = open_model(settings, progress_bar)
        state = settings.home / "state" / f"{settings.user}.kv"
        if conversation and isinstance(llm, LlamaModel):
            llm.load_state(state)
        try:
            yield db, llm
        finally:
            if conversation and isinstance(llm, LlamaModel):
                llm.save_state(state)
            llm.close()
    finally:
        db.close()


def _add_memory_commands() -> None:
    from os1.cli_calendar import calendar_group
    from os1.cli_data import COMMANDS as DATA_COMMANDS
    from os1.cli_mail import mail_group
    from os1.cli_mail_errands import actions_command
    from os1.cli_memory import memory_group, mood_command, self_command
    from os1.cli_server import invite, login, serve
    from os1.cli_voice import talk

    for command in (memory_group, self_command, mood_command, talk, serve, invite, login,
                    mail_group, actions_command, calendar_group, *DATA_COMMANDS):
        cli.add_command(command)


_add_memory_commands()


@contextmanager
def remembering(settings: Settings, db: Database, llm: Model) -> Iterator[MemorySession]:
    """Her long-term memory for this session; the worker stops (work in flight is left
    for next time, nothing lost) when the session ends."""
    memory = open_memory(settings, db, llm,
                         open_embedder(settings.embedder, settings.cache_dir, progress_bar))
    # switched embedders: every memory re-embedded now, in sight, not on the first recall;
    # likewise a big memory's vector index, loaded or built
    memory.recollection.store.repair_embeddings(count_bar)
    memory.recollection.store.prepare_index(count_bar)
    try:
        yield memory
    finally:
        memory.close()


def with_memory(llm: Model, db: Database, settings: Settings,
                memory: MemorySession) -> Companion:
    return Companion(llm, db, settings, steering=Steering.load(), memory=memory.recollection,
                     critic=Critic.sharing(memory.recollection.store.embedder),
                     desk=secretary_desks(settings, db, lambda: llm,
                                          memory.recollection.store.text_search),
                     busy=memory.worker.gate.busy, after_reply=memory.worker.wake)


@contextmanager
def reminding(settings: Settings, db: Database, say: Callable[[str], None]) -> Iterator[None]:
    """Her reminders ("you have a meeting in five minutes") said through ``say`` while
    the conversation is open."""
    bell = ReminderBell(Reminders(db, settings.user), say)
    bell.check()  # what is due as the conversation opens is said first, not by chance
    bell.start()
    try:
        yield
    finally:
        bell.stop()
        bell.join(timeout=5)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print()
        sys.exit(130)
    except OS1Error as error:
        hint = f"\n{error.hint}" if error.hint else ""
        err_console.print("[red]os1:[/red] ", end="")
        err_console.print(f"{error}{hint}", markup=False, highlight=False)
        sys.exit(1)
