"""``os1 things``: what her skills have made for you (a letter, a drawing, a note), every
skill's in one list with where its file is, and ``os1 things remove ID``."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from os1.config import Settings
from os1.storage.artefacts import ArtefactStore
from os1.storage.db import Database
from os1.ui.commands import account_option, date_text, err, out
from os1.visible_text import visible


@click.group(name="things", invoke_without_command=True)
@click.option("--skill", default=None, metavar="NAME", help="Only what this skill made.")
@account_option
@click.pass_context
def things_group(ctx: click.Context, skill: str | None) -> None:
    """What her skills have made for you, newest first, with where each file is."""
    if ctx.invoked_subcommand is not None:
        return
    settings: Settings = ctx.obj
    db = Database.open(settings.storage)
    try:
        found = ArtefactStore(db, settings.user, settings.home).list(skill)
    finally:
        db.close()
    if not found:
        err.print("She hasn't made anything for you yet." if skill is None
                  else f"She hasn't made anything with {skill} yet.")
        return
    table = Table(title=f"{len(found)} things she made", title_justify="left")
    for column in ("id", "when", "skill", "kind", "title", "file"):
        table.add_column(column, overflow="fold")
    for thing in found:
        where = str(thing.path) if thing.path is not None else "(not in your folder)"
        # a title may quote someone else's words: Text, never markup
        table.add_row(str(thing.id), date_text(thing.created_at), thing.skill,
                      Text(visible(thing.kind)), Text(visible(thing.title)), Text(where))
    out.print(table)


@things_group.command(name="remove")
@click.argument("thing_id", metavar="ID", type=click.IntRange(1, 2**62))
@click.option("--yes", is_flag=True, help="Don't ask first.")
@account_option
@click.pass_obj
def remove_command(settings: Settings, thing_id: int, yes: bool) -> None:
    """Remove thing ID and its file for good."""
    db = Database.open(settings.storage)
    try:
        store = ArtefactStore(db, settings.user, settings.home)
        thing = store.get(thing_id)
        if not yes:
            click.confirm(f"Remove {thing.kind} {visible(thing.title)!r} and its file?",
                          abort=True)
        store.remove(thing_id)
    finally:
        db.close()
    err.print(f"Removed thing {thing_id}.")


COMMANDS = (things_group,)
