"""What she makes, as three skills found through the ``os1.skills`` entry point like any
other: ``compose`` (``os1 compose``), ``draw`` (``os1 draw``) and ``made`` (``os1 made``,
the gallery, and the conversation: "play me something about this morning").

Why three: each command is a skill's own (``os1 <skill>``), and a command line of
``os1 compose "..."`` reads better than ``os1 made compose "..."``. The conversation has
one desk, ``made``'s, so "slower" after a piece and "darker" after a drawing are heard by
the one that knows what was made last.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from os1.skills.contract import BaseSkill, Desk, Person
from os1.skills.intents import builtin_file

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


class ComposeSkill(BaseSkill):
    name = "compose"

    def commands(self) -> click.Command:
        from os1.making.commands import compose_command

        return compose_command


class DrawSkill(BaseSkill):
    name = "draw"

    def commands(self) -> click.Command:
        from os1.making.commands import draw_command

        return draw_command


class MadeSkill(BaseSkill):
    name = "made"
    order = 40

    def desk(self, person: Person) -> Desk | None:
        from os1.making.desk import MakingDesk

        return MakingDesk(person)

    def intents(self) -> Traversable:
        """What he asks of it, for the intent router (``data/intents/made.toml``)."""
        return builtin_file(self.name)

    def commands(self) -> click.Group:
        from os1.making.commands import made_group

        return made_group

    def router(self) -> APIRouter:
        """The gallery's API (``routes.py``): imported only by ``os1 serve``."""
        from os1.making.routes import router

        return router

    def view(self) -> Traversable:
        """The gallery's files, served under ``/skills/made/``."""
        return files("os1.making") / "view"


COMPOSE = ComposeSkill()
DRAW = DrawSkill()
MADE = MadeSkill()
