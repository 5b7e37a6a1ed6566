"""``os1 serve`` and ``os1 invite``: her as a server for many people."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

from os1.config import Settings
from os1.data import read_toml
from os1.errors import OS1Error
from os1.llm.base import Model
from os1.llm.resolve import describe_spec, open_model
from os1.mind.critic import Critic
from os1.mind.steering import Steering
from os1.server.states import KEPT_STATES
from os1.storage.db import Database

if TYPE_CHECKING:
    from os1.server.minds import Minds

DEFAULT_PORT = 8316
DATABASE_HELP = ("A postgresql:// URL: several workers on it share one state (default: the"
                 " SQLite file in the data dir; also OS1_DATABASE or config.toml's database).")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535))
@click.option("--invite-only", is_flag=True,
              help="Sign-up needs an invitation code (make them with: os1 invite).")
@click.option("--max-waiting", type=click.IntRange(0, 1_000_000), default=None,
              help="Turns that may wait for the model before she answers busy "
                   "(default: server.toml's).")
@click.option("--model-workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Model instances answering at once (the CPU threads are shared out "
                   "among them).")
@click.option("--kept-states", type=click.IntRange(0, 100_000), default=KEPT_STATES,
              show_default=True,
              help="People whose evaluated conversation is kept on disk (~30 KB a token) "
                   "while the model talks with others; 0: none.")
@click.option("--memory/--no-memory", default=True, show_default=True,
              help="Each person's long-term memory: recalled in their turns, written in "
                   "the background after them.")
@click.option("--database", default=None, metavar="URL",
              help=DATABASE_HELP)
@click.option("--endpoint-model", default=None,
              help="Model name to ask an OpenAI-compatible server for.")
@click.option("--model", "-m", default=None, metavar="SPEC",
              help="bundled (default), a .gguf path, an Ollama model name, "
                   "or an OpenAI-compatible base URL.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, invite_only: bool,
          max_waiting: int | None, model_workers: int, kept_states: int, memory: bool,
          database: str | None, model: str | None, endpoint_model: str | None) -> None:
    """Talk with many people at once, each in their own account (API: /openapi.json)."""
    _require_server_extra()
    from os1.server import serving
    from os1.server.app import create_app
    from os1.server.minds import Minds

    settings: Settings = ctx.obj.with_overrides(model=model, endpoint_model=endpoint_model,
                                                database=database)
    if model_workers > 1 and not settings.threads:
        settings = settings.with_overrides(threads=max(1, (os.cpu_count() or 1) // model_workers))

    def minds(s: Settings, llm: Model) -> Minds:
        from os1.memory.embedders import open_embedder
        from os1.mind.memory_session import worker_model_opener
        from os1.server.memory import ServerMemory

        embedder = open_embedder(s.embedder, s.cache_dir)
        critic = Critic.sharing(embedder)
        if not memory:
            return Minds(s, llm, steering=Steering.load(), kept_states=kept_states,
                         critic=critic)
        writer = ServerMemory(s.storage, embedder, worker_model_opener(s, llm))
        writer.start()
        return Minds(s, llm, embedder=embedder, steering=Steering.load(), memory=writer,
                     kept_states=kept_states, critic=critic)

    app = create_app(settings, lambda: open_model(settings), make_minds=minds,
                     invitation_required=invite_only, max_waiting=max_waiting,
                     model_workers=model_workers)
    limits = read_toml("server.toml")["limits"]
    click.echo(f"os1 serves on http://{host}:{port} (API: /openapi.json); her model "
               f"({describe_spec(settings.model)}) is loading. Ctrl-C stops.", err=True)
    # SIGTERM or Ctrl-C: replies under way finish first (server/farewell.py)
    serving.serve(app, host=host, port=port, ws_max_size=int(limits["max_frame_bytes"]))


@click.command()
@click.option("--count", default=1, show_default=True, type=click.IntRange(1, 1000))
@click.option("--database", default=None, metavar="URL", help=DATABASE_HELP)
@click.pass_context
def invite(ctx: click.Context, count: int, database: str | None) -> None:
    """Print one-use invitation codes for an --invite-only server."""
    _require_server_extra()
    from os1.server.accounts import AccountStore

    settings: Settings = ctx.obj.with_overrides(database=database)
    db = Database.open(settings.storage)
    try:
        store = AccountStore(db)
        for _ in range(count):
            click.echo(store.invite())
    finally:
        db.close()


def _require_server_extra() -> None:
    try:
        import argon2  # noqa: F401
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise OS1Error(f"os1 serve needs the server extra ({exc.name} is missing).",
                       "pip install -e '.[server]'  (./start and ./run-tests install it)") \
            from exc


@click.command()
@click.argument("url")
@click.option("--username", prompt=True, help="Your username on that server.")
@click.option("--password", prompt=True, hide_input=True, envvar="OS1_PASSWORD",
              help="Asked for if not given (or set OS1_PASSWORD).")
@click.option("--sign-up", is_flag=True, help="Create the account first.")
@click.pass_context
def login(ctx: click.Context, url: str, username: str, password: str, sign_up: bool) -> None:
    """Log in to an os1 serve server, for os1 chat --server URL."""
    from os1.ui.remote import LoginStore, log_in

    settings: Settings = ctx.obj
    LoginStore(settings.home / "servers.json").save(url, log_in(url, username, password,
                                                                sign_up))
    click.echo(f"Logged in to {url} as {username}. Talk: os1 chat --server {url}", err=True)


COMMANDS = (serve, invite, login)
