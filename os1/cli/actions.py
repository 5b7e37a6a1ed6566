"""``os1 actions``: the action log, every skill's side effects outside os1 in one list
(mail sent or moved, events created), from proposed to done, declined or undone."""

from __future__ import annotations

import click
from rich.table import Table
from rich.text import Text

from os1.config import Settings
from os1.storage.actions import ActionLog
from os1.storage.db import Database
from os1.ui.commands import date_text, err, out
from os1.visible_text import visible


@click.command(name="actions")
@click.option("--limit", default=30, show_default=True, type=click.IntRange(1, 10_000))
@click.pass_obj
def actions_command(settings: Settings, limit: int) -> None:
    """Everything she has proposed or done outside os1 (mail sent or moved, events)."""
    db = Database.open(settings.storage)
    try:
        found = ActionLog(db, settings.user).recent(limit)
    finally:
        db.close()
    if not found:
        err.print("She hasn't proposed or done anything outside os1 yet.")
        return
    table = Table(title=f"Her last {len(found)} actions", title_justify="left")
    for column in ("id", "when", "what", "status"):
        table.add_column(column, overflow="fold")
    for action in found:
        status = action.status + (f": {action.error}" if action.error else "")
        # a summary quotes a stranger's subject: Text, never markup
        table.add_row(str(action.id), date_text(action.updated_at),
                      Text(visible(action.summary)), Text(visible(status)))
    out.print(table)


COMMANDS = (actions_command,)
