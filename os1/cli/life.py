"""``os1 life`` and ``os1 live``: her own time, open to him. ``os1 life`` shows his rules,
what she did and what it cost, and the messages she started; he changes the rules and
pauses it all from here. ``os1 live`` runs her time when nothing else of hers is running.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace

import click
from rich.table import Table

from os1.config import Settings
from os1.errors import InputError
from os1.life.diary import LifeLog
from os1.life.outbox import Outbox, Outreach
from os1.life.rules import LifeRules, LifeRulesStore
from os1.life.scheduler import LifeScheduler
from os1.llm.base import Model
from os1.llm.resolve import open_model
from os1.ui.commands import (
    database,
    date_text,
    err,
    model_options,
    out,
    require_setup,
    settings_from,
)

_QUIET = re.compile(r"\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*")


@click.group(invoke_without_command=True)
@click.pass_context
def life(ctx: click.Context) -> None:
    """Her own time: your rules, what she did and what it cost, what she wrote to you."""
    if ctx.invoked_subcommand is None:
        show(ctx.obj)


def show(settings: Settings) -> None:
    with database(settings) as db:
        rules = LifeRulesStore(db, settings.user).get()
        log = LifeLog(db, settings.user)
        spent = log.spent_since(rules.day_start(time.time()))
        out.print(describe(rules))
        out.print(f"Model time today: {spent:.0f} s of {rules.budget_minutes * 60:.0f} s.")
        entries = log.recent(10)
        table = Table(title="What she did", title_justify="left")
        for column in ("when", "what", "why", "model s"):
            table.add_column(column)
        for entry in entries:
            table.add_row(date_text(entry.at), entry.what, entry.detail, f"{entry.model_s:.1f}")
        out.print(table if entries else "She hasn't done anything with her own time yet.")
        for message in Outbox(db, settings.user).recent(5):
            state = "waiting for you" if message.delivered_at is None else "said"
            out.print(f"{date_text(message.created_at)} ({state}, {message.kind}): "
                      f"{message.text}", markup=False, highlight=False)


def describe(rules: LifeRules) -> str:
    zone = rules.time_zone or "this machine's time zone"
    first = ("She may message you first" if rules.reach_out
             else "She never messages you first")
    paused = " Her own time is paused (os1 life resume)." if rules.paused else ""
    hours = ("at any hour" if rules.quiet_from == rules.quiet_until
             else f"never between {rules.quiet_from} and {rules.quiet_until}")
    return f"{first}: at most {rules.daily_cap} a day, {hours} ({zone}).{paused}"


@life.command()
@click.pass_context
def pause(ctx: click.Context) -> None:
    """Pause her own time: she does nothing and messages no one until you resume it."""
    _change(ctx.obj, paused=True)
    err.print("Paused: she does nothing with her own time until os1 life resume.")


@life.command()
@click.pass_context
def resume(ctx: click.Context) -> None:
    """Let her have her own time again."""
    _change(ctx.obj, paused=False)
    err.print("Resumed.")


@life.command()
@click.option("--quiet", metavar="HH:MM-HH:MM", help="Hours she never messages you in.")
@click.option("--cap", type=int, help="At most this many messages from her a day.")
@click.option("--never-first/--may-message-first", default=None,
              help="Whether she may start a conversation herself.")
@click.option("--budget-minutes", type=float, help="Model-minutes a day for her own time.")
@click.option("--time-zone", help="Your time zone (an IANA name, e.g. Europe/Lisbon).")
@click.pass_context
def rules(ctx: click.Context, quiet: str | None, cap: int | None, never_first: bool | None,
          budget_minutes: float | None, time_zone: str | None) -> None:
    """Show or change your rules for her own time."""
    changes: dict[str, object] = {}
    if quiet is not None:
        found = _QUIET.fullmatch(quiet)
        if found is None:
            raise InputError(f"{quiet!r} is not a span of hours.",
                             "For example: --quiet 22:00-08:00")
        changes.update(quiet_from=found.group(1), quiet_until=found.group(2))
    for name, value in (("daily_cap", cap), ("budget_minutes", budget_minutes),
                        ("time_zone", time_zone)):
        if value is not None:
            changes[name] = value
    if never_first is not None:
        changes["reach_out"] = not never_first
    changed = _change(ctx.obj, **changes) if changes else None
    with database(ctx.obj) as db:
        out.print(describe(changed or LifeRulesStore(db, ctx.obj.user).get()))


def _change(settings: Settings, **changes: object) -> LifeRules:
    with database(settings) as db:
        store = LifeRulesStore(db, settings.user)
        return store.save(replace(store.get(), **changes), time.time())  # type: ignore[arg-type]


@click.command()
@model_options
@click.option("--once", is_flag=True, help="Look once now, idle machine or not, then stop.")
@click.pass_context
def live(ctx: click.Context, model: str | None, endpoint_model: str | None, once: bool) -> None:
    """Run her own time until Ctrl-C (when os1 chat and os1 serve are not running)."""
    settings = settings_from(ctx, model=model, endpoint_model=endpoint_model)
    require_setup(settings)
    with database(settings) as db:
        loaded: list[Model] = []
        lock = threading.Lock()

        def her_model() -> Model:  # loaded only when she has something to write
            with lock:
                if not loaded:
                    loaded.append(open_model(settings))
                return loaded[0]

        def told(message: Outreach) -> None:
            err.print(f"She wrote to you ({message.kind}); you'll see it in os1 chat.")

        # a look asked for by hand runs now; the running one waits for an idle machine
        scheduler = LifeScheduler(db, lambda: [settings.user], her_model, on_sent=told,
                                  **({"idle": lambda: True} if once else {}))
        try:
            scheduler.tick()
            if not once:
                err.print("Her own time is running (Ctrl-C stops it).")
                scheduler.run()
        except KeyboardInterrupt:
            err.print("Stopped.")
        finally:
            for her in loaded:
                her.close()


COMMANDS = (life, live)
