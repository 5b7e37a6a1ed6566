"""The ``os1`` command: the group and ``main``. Each command is a thin shell over the
parts in os1/, in a module of its own here (or, for a skill's group, in the skill's
package); none of them imports this module, which only puts them together.

Why the group is lazy: importing every command's module took 1.7 s on a quiet 2-core
machine before ``os1 made list`` could print a line (her model, mail, PostgreSQL and
calendar code among them), and the test suite starts ``os1`` a few hundred times. Each
command's module is imported when that command is run; ``os1 --help`` imports them all.
"""

from __future__ import annotations

import importlib
import sys

import click

from os1.config import load_settings
from os1.errors import OS1Error
from os1.ui.commands import err_console

# os1's own commands, by name, and the module in os1/cli that holds each (in the module's
# COMMANDS); tests/unit/test_cli_commands.py checks this against the modules.
OWN = {"chat": "chat", "say": "chat", "setup": "setup", "history": "history",
       "model": "model", "memory": "memory", "self": "memory", "mood": "memory",
       "talk": "voice", "serve": "server", "invite": "server", "login": "server",
       "actions": "actions", "things": "things", "export": "data", "import": "data",
       "forget-me": "data", "backup": "data", "restore": "data", "life": "life",
       "live": "life"}


def own_command(name: str) -> click.Command:
    module = importlib.import_module(f"os1.cli.{OWN[name]}")
    command: click.Command = next(c for c in module.COMMANDS if c.name == name)
    return command


class Os1Group(click.Group):
    """os1's commands, each imported when it is run, and each skill's group."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        from os1.cli.skills import skill_groups

        return sorted({*OWN, *(g.name or "" for g in skill_groups(taken=OWN))} - {""})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in OWN:
            return own_command(cmd_name)
        from os1.cli.skills import skill_group

        return skill_group(cmd_name, taken=OWN)


@click.group(cls=Os1Group)
@click.version_option(package_name="os1")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """os1: an operating system with a mind, on your own machine."""
    ctx.obj = load_settings()


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
