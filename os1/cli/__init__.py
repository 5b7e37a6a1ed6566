"""The ``os1`` command: the group and ``main``. Each command is a thin shell over the
parts in os1/, in a module of its own here (or, for a skill's group, in the skill's
package); none of them imports this module, which only puts them together."""

from __future__ import annotations

import sys

import click

from os1.cli import actions, chat, data, history, memory, model, server, setup, things, voice
from os1.cli.skills import skill_groups
from os1.config import load_settings
from os1.errors import OS1Error
from os1.ui.commands import err_console


@click.group()
@click.version_option(package_name="os1")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """os1: an operating system with a mind, on your own machine."""
    ctx.obj = load_settings()


for _module in (chat, setup, history, model, memory, voice, server, actions, things, data):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
for _group in skill_groups(taken=cli.commands):
    cli.add_command(_group)


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
