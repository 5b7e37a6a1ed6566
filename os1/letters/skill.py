"""His letters, as a skill: found through the ``os1.skills`` entry point like any other."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import TYPE_CHECKING

from os1.skills.contract import BaseSkill, Desk, Person
from os1.skills.intents import builtin_file

if TYPE_CHECKING:
    import click
    from fastapi import APIRouter


class LettersSkill(BaseSkill):
    name = "letters"
    order = 30

    def desk(self, person: Person) -> Desk | None:
        from os1.letters.desk import LetterDesk

        return LetterDesk(person)

    def intents(self) -> Traversable:
        """What he asks of it, for the intent router (``data/intents/letters.toml``)."""
        return builtin_file(self.name)

    def commands(self) -> click.Group:
        """``os1 letters ...``: imported only when the command line is built."""
        from os1.letters.commands import letters_group

        return letters_group

    def router(self) -> APIRouter:
        """The Letters view's API (``routes.py``): imported only by ``os1 serve``."""
        from os1.letters.routes import router

        return router

    def view(self) -> Traversable:
        """The Letters view's files, served under ``/skills/letters/``."""
        return files("os1.letters") / "view"


SKILL = LettersSkill()
