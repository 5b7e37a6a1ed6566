"""``os1 memory``, ``os1 self`` and ``os1 mood``: what she remembers, who she has become
and how she feels, all open to the user, who can correct or remove any memory."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn
from rich.table import Table

from os1.config import Settings
from os1.memory.embedders import open_embedder
from os1.memory.memories import MemoryStore
from os1.memory.records import KINDS, Memory
from os1.memory.retrieval import recall
from os1.memory.selfmodel import SelfHistory, SelfModel
from os1.memory.worker import Progress as WorkerProgress
from os1.mind.memory_session import open_memory
from os1.mind.mood import MoodKeeper
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.ui.commands import date_text, err, opened, out


@contextmanager
def memory_store(settings: Settings) -> Iterator[tuple[Database, MemoryStore]]:
    db = Database.open(settings.storage)
    try:
        yield db, MemoryStore(db, settings.user,
                              open_embedder(settings.embedder, settings.cache_dir))
    finally:
        db.close()


def _table(memories: list[Memory], title: str) -> Table:
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("id", "kind", "when", "memory"):
        table.add_column(column, overflow="fold")
    for memory in memories:
        table.add_row(str(memory.id), memory.kind, date_text(memory.when), memory.content)
    return table


@click.group(name="memory")
def memory_group() -> None:
    """What she remembers: list, search, show, edit, forget, process."""


@memory_group.command(name="list")
@click.option("--limit", default=30, show_default=True)
@click.option("--kind", default=None, type=click.Choice(KINDS), help="Only this kind.")
@click.option("--moments", is_flag=True, help="Include moments (every message, as kept).")
@click.pass_context
def memory_list(ctx: click.Context, limit: int, kind: str | None, moments: bool) -> None:
    """Her current memories, newest first."""
    with memory_store(ctx.obj) as (_, store):
        shown = [m for m in store.active()
                 if (kind is None or m.kind == kind) and (moments or kind == "moment"
                                                          or m.kind != "moment")][:limit]
        if not shown:
            out.print("She has no memories of that kind yet.")
            return
        out.print(_table(shown, f"{len(shown)} of {store.count()} memories"), markup=False)


@memory_group.command(name="search")
@click.argument("query", nargs=-1, required=True)
@click.option("--limit", default=10, show_default=True)
@click.pass_context
def memory_search(ctx: click.Context, query: tuple[str, ...], limit: int) -> None:
    """What she would recall for QUERY (words, a question, "last Tuesday"...)."""
    with memory_store(ctx.obj) as (_, store):
        found = recall(store, " ".join(query), k=limit)
        if not found:
            out.print("Nothing comes to mind.")
            return
        out.print(_table([s.memory for s in found], f"Recalled for {' '.join(query)!r}"),
                  markup=False)


@memory_group.command(name="show")
@click.argument("memory_id", type=int)
@click.pass_context
def memory_show(ctx: click.Context, memory_id: int) -> None:
    """One memory: where it came from, what it was derived from, how it changed."""
    settings: Settings = ctx.obj
    with memory_store(settings) as (db, store):
        memory = store.get(memory_id)
        state = "current" if memory.active else f"replaced by memory {memory.superseded_by}"
        out.print(f"Memory {memory.id} ({memory.kind}, {state}): {memory.content}", markup=False)
        out.print(f"  learned {date_text(memory.created_at)}"
                  + (f"; happened {date_text(memory.event_at)}" if memory.event_at else "")
                  + f"; importance {memory.importance:.1f}"
                  + (f"; about {memory.subject!r}" if memory.subject else ""), markup=False)
        _show_sources(ConversationLog(db, settings.user), memory)
        for source in store.get_many(store.sources_of(memory.id)):
            out.print(f"  derived from memory {source.id}: {source.content}", markup=False)
        chain = store.history(memory.id)
        if len(chain) > 1:
            out.print("  history:")
            for version in chain:
                mark = "" if version.active else " (superseded)"
                out.print(f"    {version.id} {date_text(version.created_at)} "
                          f"{version.content}{mark}", markup=False)


def _show_sources(log: ConversationLog, memory: Memory) -> None:
    by_id = {m.id: m for m in log.before(max(memory.sources, default=0) + 1, 50)}
    for source in memory.sources:
        message = by_id.get(source)
        if message is None:
            continue
        who = "you" if message.role == "user" else "she"
        text = message.content or "(forgotten)"
        out.print(f"  from message {source} ({who}, {date_text(message.created_at)}): {text}",
                  markup=False)


@memory_group.command(name="edit")
@click.argument("memory_id", type=int)
@click.argument("text", nargs=-1, required=True)
@click.pass_context
def memory_edit(ctx: click.Context, memory_id: int, text: tuple[str, ...]) -> None:
    """Correct a memory (the old version stays in its history)."""
    with memory_store(ctx.obj) as (_, store):
        new = store.edit(memory_id, " ".join(text))
        if new.id == memory_id:
            out.print("That is what she already remembers; nothing changed.")
        else:
            out.print(f"Memory {memory_id} is corrected: memory {new.id} now says: "
                      f"{new.content}", markup=False)


@memory_group.command(name="forget")
@click.argument("memory_id", type=int)
@click.option("--yes", is_flag=True, help="Don't ask for confirmation.")
@click.pass_context
def memory_forget(ctx: click.Context, memory_id: int, yes: bool) -> None:
    """Forget a memory for good: every version, its embedding, and what she concluded
    from it."""
    with memory_store(ctx.obj) as (_, store):
        memory = store.get(memory_id)
        if not yes and sys.stdin.isatty() and not click.confirm(
                f"Forget {memory.content!r} and everything derived from it?"):
            out.print("Nothing was forgotten.")
            return
        removed = store.forget(memory_id)
        out.print(f"Forgotten: memory {memory_id}"
                  + (f" and {removed - 1} related memories." if removed > 1 else "."))


@memory_group.command(name="process")
@click.option("--model", "-m", default=None, metavar="SPEC", help="As for os1 chat.")
@click.option("--endpoint-model", default=None, help="As for os1 chat.")
@click.pass_context
def memory_process(ctx: click.Context, model: str | None, endpoint_model: str | None) -> None:
    """Turn every conversation not yet remembered into memories now, and reflect (this
    normally happens in the background while you chat)."""
    settings: Settings = ctx.obj.with_overrides(model=model, endpoint_model=endpoint_model)
    with opened(settings) as (db, llm):
        session = open_memory(settings, db, llm)
        session.worker.quiet_s = 0.0
        with _progress() as (bar, task):
            def step(done: WorkerProgress, waiting: int) -> None:
                bar.update(task, completed=done.exchanges, total=done.exchanges + waiting // 2)

            done = session.worker.catch_up(db, reflect_at_end=True, on_step=step)
        session.close()
    out.print(f"Remembered {done.moments} messages as moments and {done.memories} memories "
              f"from {done.exchanges} exchanges; {done.insights} new insights"
              + ("; her sense of herself changed (os1 self --history)." if done.self_changed
                 else "."))


@contextmanager
def _progress() -> Iterator[tuple[Progress, TaskID]]:
    bar = Progress(TextColumn("Remembering"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("exchanges"), console=err, transient=True)
    with bar:
        yield bar, bar.add_task("remembering", total=None)


@click.command(name="self")
@click.option("--history", is_flag=True, help="Every version, with what changed and why.")
@click.pass_context
def self_command(ctx: click.Context, history: bool) -> None:
    """How she sees herself now (or how that changed)."""
    settings: Settings = ctx.obj
    db = Database.open(settings.storage)
    try:
        selves = SelfHistory(db, settings.user)
        if not history:
            out.print(selves.current().model.describe(), markup=False)
            return
        before: SelfModel | None = None
        for number, version in enumerate(selves.history(), start=1):
            out.print(f"Version {number} ({date_text(version.created_at)}): {version.reason}",
                      markup=False)
            changes = version.model.changes_from(before) if before else []
            for change in changes:
                out.print(f"    {change}", markup=False)
            if version.sources:
                out.print(f"    from insights: {', '.join(map(str, version.sources))}")
            before = version.model
    finally:
        db.close()


@click.command(name="mood")
@click.pass_context
def mood_command(ctx: click.Context) -> None:
    """How she feels right now, and the hurtful moments she remembers."""
    settings: Settings = ctx.obj
    db = Database.open(settings.storage)
    try:
        keeper = MoodKeeper(db, settings.user)
        state = keeper.current(time.time())
        out.print(f"She feels {state.feeling} (valence {state.valence:+.2f}, arousal "
                  f"{state.arousal:.2f}). {state.tone}", markup=False)
        for event in keeper.hurtful_moments(5):
            out.print(f"  hurt on {date_text(event.at)}: {event.cause}", markup=False)
    finally:
        db.close()


COMMANDS = (memory_group, self_command, mood_command)
