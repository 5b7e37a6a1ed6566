"""Which skill a message is for, or none (plain conversation).

1. A proposal waiting for the very next turn: the skill that made it hears the reply.
2. The skills' intent patterns (their TOML, ``intents.py``): one skill's sure pattern
   decides at once (another's mere ``maybe`` aside), and a message no pattern touches
   is conversation; both cost nothing.
3. Only where patterns disagree (two skills sure) or none is sure: ONE grammar-held question
   to her model, choosing among the intents the patterns found and "conversation"
   (``intent_choice.py``). Without a model, or when its answer is no label, the patterns'
   order decides (lower ``order`` first, then the order an intent is declared in).

The chosen desk does the work; when it can't ("add salt to the soup": no time, no
calendar), the message is conversation after all. Every desk that did not answer is told
the turn ``passed``, so a proposal any of them made lapses. A desk without declared
intents (or not an ``IntentDesk``) is asked the old way, in order, when no intent took it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from os1.errors import OS1Error
from os1.llm.base import Model
from os1.skills.contract import Desk, Skill, SkillAnswer
from os1.skills.intent_choice import choose_intent
from os1.skills.intents import CONVERSATION, Intent, IntentDesk, Match, find_intents, read_intents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """What the router made of a message: the intents to try, in order (empty:
    conversation), and whether the model was asked (``chosen``: its label)."""

    tries: tuple[Match, ...]
    asked_model: bool = False
    chosen: str | None = None

    @property
    def label(self) -> str:
        return self.tries[0].intent.label if self.tries else CONVERSATION


class IntentRouter:
    def __init__(self, skills: Sequence[tuple[Skill, Desk]],
                 model: Callable[[], Model] | None = None) -> None:
        """``model``: asked to choose among the skills' intents where patterns can't."""
        self.skills = sorted(skills, key=lambda pair: pair[0].order)
        self.model = model
        self.intents: list[Intent] = []
        self.desks: dict[str, IntentDesk] = {}
        for skill, desk in self.skills:
            source = skill.intents()
            if source is not None and isinstance(desk, IntentDesk):
                self.intents.extend(read_intents(skill.name, source))
                self.desks[skill.name] = desk

    def answer(self, text: str) -> SkillAnswer | None:
        answered = self._replied(text)
        if answered is None:
            answered = self._acted(text) or self._asked_plain(text)
        for _skill, desk in self.skills:
            if answered is None or desk is not answered[0]:
                desk.passed()
        return answered[1] if answered is not None else None

    def passed(self) -> None:
        for _skill, desk in self.skills:
            desk.passed()

    def route(self, text: str, use_model: bool = True) -> Route:
        """The intents ``text`` is tried as (``use_model``: False for patterns alone)."""
        found = find_intents(self.intents, text)
        sure = {m.intent.skill for m in found if m.sure}
        unsure = bool(found) and len(sure) != 1  # none is sure, or two skills are
        if not unsure or not use_model or self.model is None:
            return Route(tuple(found))
        chosen = self._choose(text, list(dict.fromkeys(m.intent for m in found)))
        if chosen is None:
            return Route(tuple(found), asked_model=True)
        if chosen == CONVERSATION:
            return Route((), asked_model=True, chosen=chosen)
        match = next(m for m in found if m.intent.label == chosen)
        return Route((match,), asked_model=True, chosen=chosen)

    def _choose(self, text: str, choices: list[Intent]) -> str | None:
        assert self.model is not None
        try:
            return choose_intent(self.model(), choices, text)
        except OS1Error as exc:  # the patterns' order still gives an answer
            log.warning("The model could not choose an intent (%s); patterns decide.", exc)
            return None

    def _acted(self, text: str) -> tuple[Desk, SkillAnswer] | None:
        for match in self.route(text).tries:
            desk = self.desks[match.intent.skill]
            found = desk.act(match.intent.name, text, match.slots)
            if found is not None:
                return desk, found
        return None

    def _replied(self, text: str) -> tuple[Desk, SkillAnswer] | None:
        """A proposal's answer goes to the desk that proposed (only it has one waiting)."""
        for desk in self.desks.values():
            found = desk.reply(text)
            if found is not None:
                return desk, found
        return None

    def _asked_plain(self, text: str) -> tuple[Desk, SkillAnswer] | None:
        for skill, desk in self.skills:
            if skill.name not in self.desks and (found := desk.answer(text)) is not None:
                return desk, found
        return None
