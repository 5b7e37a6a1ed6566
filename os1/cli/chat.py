"""``os1 chat`` and ``os1 say``: talking with her in writing, on a terminal, piped, or
with her on an ``os1 serve`` server."""

from __future__ import annotations

import sys
import time

import click
from rich.console import Console

from os1.cli.sessions import her_own_time, remembering, reminding, with_memory
from os1.cli.setup import run_interactive_setup
from os1.life.outbox import Outbox, said_on_arrival
from os1.storage.setups import SetupStore
from os1.ui.commands import err_console, model_options, opened, require_setup, settings_from
from os1.ui.input import decode_text
from os1.ui.streams import kept
from os1.ui.terminal import TerminalChat


@click.command()
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
        waiting = Outbox(db, settings.user)
        with reminding(settings, db, ui.notice), her_own_time(settings, db, llm, memory):
            ui.run(greet=interactive if greet is None else greet,
                   arrival=lambda: said_on_arrival(companion, waiting, time.time()))


@click.command()
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


COMMANDS = (chat, say)
