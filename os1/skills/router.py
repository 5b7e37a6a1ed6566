"""Which skill a message is for: each turn goes to the skills' desks in order (lower
``order`` first) until one answers, and the others are told the turn passed, so a
proposal any of them made lapses unless the very next turn confirms it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from os1.llm.base import Model
from os1.skills.contract import Desk, Skill, SkillAnswer


class IntentRouter:
    def __init__(self, skills: Sequence[tuple[Skill, Desk]],
                 model: Callable[[], Model] | None = None) -> None:
        """``model``: asked to choose among the skills' intents where patterns can't."""
        self.skills = sorted(skills, key=lambda pair: pair[0].order)
        self.model = model

    def answer(self, text: str) -> SkillAnswer | None:
        for n, (_skill, desk) in enumerate(self.skills):
            found = desk.answer(text)
            if found is not None:
                for _other, other in self.skills[n + 1:]:
                    other.passed()
                return found
        return None

    def passed(self) -> None:
        for _skill, desk in self.skills:
            desk.passed()
