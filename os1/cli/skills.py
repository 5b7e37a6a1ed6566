"""Each installed skill's own command group (``os1 mail``, ``os1 calendar``, an installed
package's), found through the skill registry, so a new skill needs no change here.

Why a bad group is left out instead of stopping ``os1``: one package's broken commands
must not take every other command with them, and a skill must never replace one of os1's
own commands (a skill called "chat" would otherwise take ``os1 chat`` over)."""

from __future__ import annotations

import logging
from collections.abc import Collection

import click

from os1.skills.contract import Skill
from os1.skills.registry import installed_skills

log = logging.getLogger(__name__)


def skill_groups(taken: Collection[str]) -> list[click.Command]:
    """The command group of every installed skill that declares one, named as the skill;
    a name in ``taken`` is os1's own command and stays so."""
    groups = (_group_of(skill, taken) for skill in installed_skills())
    return [group for group in groups if group is not None]


def skill_group(name: str, taken: Collection[str]) -> click.Command | None:
    """The command group of the installed skill called ``name`` (None: no such skill, or
    it declares none); only that skill's commands are imported."""
    skill = next((s for s in installed_skills() if s.name == name), None)
    return None if skill is None else _group_of(skill, taken)


def _group_of(skill: Skill, taken: Collection[str]) -> click.Command | None:
    try:
        group = skill.commands()
    except Exception as exc:  # a plugin's import may raise anything; os1 goes on
        log.warning("The skill %r has no commands: they failed to load (%s: %s).",
                    skill.name, type(exc).__name__, exc)
        return None
    if group is None:
        return None
    if not isinstance(group, click.Command):
        log.warning("The skill %r has no commands: %r is not a click command.",
                    skill.name, group)
        return None
    if skill.name in taken:
        log.warning("The skill %r has no commands: os1 %s is os1's own.", skill.name,
                    skill.name)
        return None
    group.name = skill.name
    return group
