"""``os1 history``: the end of the conversation, read from the store without the model."""

from __future__ import annotations

import click

from os1.config import Settings
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupStore


@click.command()
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


COMMANDS = (history,)
