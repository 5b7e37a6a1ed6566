"""The skill registry (os1/skills/registry.py): skills found through the ``os1.skills``
entry points, in order; a bad plugin is left out with one warning naming it and why,
and the others still load."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from os1.skills.registry import GROUP, installed_skills, load_skills

PLUGINS = '''
from os1.skills.contract import BaseSkill


class Good(BaseSkill):
    def __init__(self, name, order):
        self.name, self.order = name, order


FIRST = Good("first", 5)
LAST = Good("last", 90)
ALSO_FIRST = Good("first", 1)
NAMED_OTHERWISE = Good("other", 7)
BAD_NAME = Good("Bad Name", 7)
BAD_ORDER = Good("half", 0.5)
NOT_A_SKILL = object()
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "registry_plugins.py").write_text(PLUGINS, encoding="utf-8")
    (tmp_path / "broken_plugin.py").write_text("import no_such_module_anywhere\n",
                                               encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "registry_plugins"
    for name in ("registry_plugins", "broken_plugin"):
        sys.modules.pop(name, None)


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=GROUP)


def test_mail_and_calendar_are_found_through_their_entry_points() -> None:
    installed_skills.cache_clear()
    names = [s.name for s in installed_skills()]
    assert names[:2] == ["calendar", "mail"], "os1's own, calendar asked first (order 10)"


def test_skills_come_in_order_whatever_order_they_are_found_in(plugins: str) -> None:
    found = load_skills([point("last", f"{plugins}:LAST"), point("first", f"{plugins}:FIRST")])
    assert [(s.name, s.order) for s in found] == [("first", 5), ("last", 90)]


@pytest.mark.parametrize(("value", "registered", "why"), [
    ("broken_plugin:SKILL", "broken", "failed to import (ModuleNotFoundError: No module "
                                      "named 'no_such_module_anywhere')"),
    ("registry_plugins:MISSING", "missing", "failed to import (AttributeError"),
    ("registry_plugins:NOT_A_SKILL", "thing", "builtins.object is not a skill (no desk, "
                                              "intents, commands, router, view, forget"),
    ("registry_plugins:Good", "good", "registry_plugins.Good is a class; register an "
                                      "instance of it"),
    ("registry_plugins:NAMED_OTHERWISE", "named", "its name 'other' is not its entry "
                                                  "point's, 'named'"),
    ("registry_plugins:BAD_NAME", "Bad Name", "is not lowercase letters"),
    ("registry_plugins:BAD_ORDER", "half", "its order is 0.5, not a whole number"),
])
def test_a_bad_plugin_is_left_out_with_one_warning_and_the_others_still_load(
        plugins: str, caplog: pytest.LogCaptureFixture, value: str, registered: str,
        why: str) -> None:
    with caplog.at_level(logging.WARNING, logger="os1.skills.registry"):
        found = load_skills([point("first", f"{plugins}:FIRST"), point(registered, value),
                             point("last", f"{plugins}:LAST")])
    assert [s.name for s in found] == ["first", "last"]
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert message.startswith(f"The skill {registered!r} ({value}, from the package ")
    assert "is left out: " in message and why in message


def test_a_second_skill_of_the_same_name_is_left_out(plugins: str,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="os1.skills.registry"):
        found = load_skills([point("first", f"{plugins}:FIRST"),
                             point("first", f"{plugins}:ALSO_FIRST")])
    assert [(s.name, s.order) for s in found] == [("first", 5)], "the first found stays"
    assert [r.getMessage().split(" is left out: ")[1] for r in caplog.records] == [
        "the name 'first' is taken by another skill."]
