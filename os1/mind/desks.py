"""Several desks as one (Companion takes one): each turn goes to each desk in order until
one answers, and the others are told the turn passed, so a proposal any of them made
lapses unless the very next turn confirms it."""

from __future__ import annotations

from collections.abc import Sequence

from os1.skills.contract import Desk, SkillAnswer


class Desks:
    def __init__(self, desks: Sequence[Desk]) -> None:
        self.desks = list(desks)

    def answer(self, text: str) -> SkillAnswer | None:
        for n, desk in enumerate(self.desks):
            found = desk.answer(text)
            if found is not None:
                for other in self.desks[n + 1:]:
                    other.passed()
                return found
        return None

    def passed(self) -> None:
        for desk in self.desks:
            desk.passed()
