"""What every ``os1`` command shares: the consoles, the model flags, the settings a
command runs with, the database and model opened and closed around it, progress bars and
``--account``. Kept outside the ``os1.cli`` package so that a skill's own command group
(``os1 mail``, ``os1 calendar``, an installed skill's) can use them without importing the
command line that adds it."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)

from os1.config import Settings
from os1.errors import OS1Error
from os1.llm.base import Model
from os1.llm.bundled import ProgressFn
from os1.llm.llama import LlamaModel
from os1.llm.resolve import describe_spec, open_model
from os1.storage.accounts import user_id_of
from os1.storage.db import Database
from os1.storage.setups import SetupStore

F = TypeVar("F", bound=Callable[..., Any])
# status lines, errors and the model's loading: highlighted as rich does by default
err_console = Console(stderr=True)
# what a command prints: strangers' and her words, never highlighted
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

SETUP_HINT = ("Run `os1 chat` on a terminal to meet her, or give the answers: "
              "os1 setup --name NAME [--answer social=...] [--voice female|male] "
              "or --answers-file FILE.")


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


def account_option(command: F) -> F:
    """``--account USERNAME``: the command acts for someone who talks with her through
    ``os1 serve``, on what is kept under that account only (their mail, calendars and
    passwords), so the server's conversation with that person alone can use them."""
    return click.option(
        "--account", metavar="USERNAME", default=None, expose_value=False, is_eager=True,
        callback=_switch_user,
        help="Act for this os1 serve account instead of you.")(command)


def _switch_user(ctx: click.Context, _param: click.Parameter, username: str | None) -> None:
    if username is None:
        return
    settings: Settings = ctx.find_object(Settings)  # type: ignore[assignment]
    db = Database.open(settings.storage)
    try:
        ctx.obj = replace(settings, user=user_id_of(db, username))
    finally:
        db.close()


def read_password(from_stdin: bool) -> str:
    """A password for a skill to keep (a mail account's, a calendar's): one line of
    stdin with ``--password-stdin``, asked for unseen otherwise; never empty."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    else:
        secret = click.prompt("Password", hide_input=True)
    if not secret:
        raise click.BadParameter("the password is empty.")
    return secret


def date_text(moment: float | None) -> str:
    """A stored time as the listings show it (local time, to the minute)."""
    return "" if moment is None else datetime.fromtimestamp(moment).strftime("%Y-%m-%d %H:%M")


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


def task_progress() -> Progress:
    """Bars of named tasks whose size is learned on the way (a folder or calendar synced):
    the caller adds the tasks and opens it with ``with``."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    console=err, transient=True)


def require_setup(settings: Settings) -> None:
    """Fail before the model loads: a script should learn this in milliseconds."""
    db = Database.open(settings.storage)
    try:
        if SetupStore(db, settings.user).current() is None:
            raise OS1Error("She hasn't been set up yet.", SETUP_HINT)
    finally:
        db.close()


@contextmanager
def database(settings: Settings) -> Iterator[Database]:
    """The database alone, for a command that needs no model."""
    db = Database.open(settings.storage)
    try:
        yield db
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
