"""The ``os1`` command as a package (issue 24): its modules never import the module that
puts them together, and each installed skill's command group is added under the skill's
name, never over one of os1's own commands, and never at the cost of the others."""

from __future__ import annotations

import ast
import importlib
import logging
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import os1.cli
from os1.cli import cli, skills
from os1.skills.contract import BaseSkill

PACKAGE = Path(os1.cli.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function; from
    ``from os1.cli import chat`` both ``os1.cli`` and ``os1.cli.chat``."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def names_from_the_package(source: str) -> list[str]:
    """What the module ``source`` takes from os1/cli/__init__.py itself (``from os1.cli
    import main``, ``import os1.cli``), wherever the import stands; its sibling modules
    don't count."""
    siblings = {p.stem for p in PACKAGE.glob("*.py")}
    taken: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "os1.cli":
            taken += [alias.name for alias in node.names if alias.name not in siblings]
        elif isinstance(node, ast.Import):
            taken += [alias.name for alias in node.names if alias.name == "os1.cli"]
    return taken


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.glob("*.py")
                                        if p.name != "__init__.py"), ids=lambda p: p.name)
def test_no_command_module_imports_the_package_that_adds_it(path: Path) -> None:
    assert names_from_the_package(path.read_text(encoding="utf-8")) == []


def test_the_check_sees_an_import_back() -> None:
    """The check itself: a module taking ``main`` from the package is caught."""
    chat = (PACKAGE / "chat.py").read_text(encoding="utf-8")
    assert names_from_the_package(chat) == []
    back = "\ndef f():\n    from os1.cli import cli, sessions\nimport os1.cli\n"
    assert sorted(names_from_the_package(chat + back)) == ["cli", "os1.cli"]


def test_every_command_of_os1s_own_is_listed_where_it_lives() -> None:
    """The lazy group finds os1's own commands by name (``os1.cli.OWN``): the names are
    every module's COMMANDS, each under its module, and no more."""
    found = {}
    for path in PACKAGE.glob("*.py"):
        module = importlib.import_module(f"os1.cli.{path.stem}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = path.stem
    assert found == os1.cli.OWN
    listed = CliRunner().invoke(cli, ["--help"]).output
    assert all(f"  {name} " in listed for name in [*found, "mail", "made"]), listed


def test_a_command_imports_only_what_it_needs(tmp_path: Path) -> None:
    """``os1 made list`` runs without her model's, the mind's or the server's code."""
    script = ("import sys\nfrom os1.cli import main\nsys.argv = ['os1', 'made', 'list']\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in ('llama_cpp', 'os1.mind.companion', 'os1.server', "
              "'psycopg', 'os1.mail.commands') if m in sys.modules))")
    env = {**os.environ, "OS1_HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout + done.stderr


@pytest.mark.parametrize("package", ["mail", "calendar"])
def test_a_skills_command_group_lives_in_its_package_without_the_cli_or_the_mind(
        package: str) -> None:
    paths = sorted((PACKAGE.parent / package).glob("*commands.py"))
    assert PACKAGE.parent / package / "commands.py" in paths
    for path in paths:
        reached = imported_modules(path)
        assert not [m for m in reached if m.startswith(("os1.cli", "os1.mind"))], path.name


def test_mail_and_calendar_groups_are_their_skills_own() -> None:
    from os1.calendar.commands import calendar_group
    from os1.calendar.skill import SKILL as CALENDAR
    from os1.mail.commands import mail_group
    from os1.mail.skill import SKILL as MAIL

    assert MAIL.commands() is mail_group
    assert CALENDAR.commands() is calendar_group
    context = click.Context(cli)
    assert cli.get_command(context, "mail") is mail_group
    assert cli.get_command(context, "calendar") is calendar_group
    listed = CliRunner().invoke(cli, ["mail", "--help"]).output
    assert "reply" in listed and "sync" in listed  # the errands are in the same group


class Named(BaseSkill):
    def __init__(self, name: str, group: object = None, broken: bool = False) -> None:
        self.name, self.group, self.broken = name, group, broken

    def commands(self) -> object:
        if self.broken:
            raise ImportError("No module named 'a_missing_dependency'")
        return self.group


def test_a_skill_group_is_added_under_its_name_and_never_over_os1s_own(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    @click.group(name="whatever")
    def letters() -> None:
        """Letters she writes."""

    @click.group(name="chat")
    def takeover() -> None:
        """Not os1 chat."""

    found = (Named("letters", letters), Named("chat", takeover), Named("quiet"),
             Named("broken", broken=True), Named("odd", group="not a command"))
    monkeypatch.setattr(skills, "installed_skills", lambda: found)
    with caplog.at_level(logging.WARNING, logger=skills.__name__):
        groups = skills.skill_groups(taken={"chat", "say"})
    assert [g.name for g in groups] == ["letters"]
    assert groups[0] is letters
    said = caplog.text
    assert "'chat' has no commands: os1 chat is os1's own" in said
    assert "'broken' has no commands: they failed to load (ImportError" in said
    assert "'odd' has no commands" in said and "not a click command" in said
    assert "quiet" not in said  # no group declared: nothing to say
