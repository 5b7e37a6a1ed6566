"""A skill's intents, read from its own TOML: what each is called, how he might say it
(examples, for the model) and the patterns that recognise it cheaply.

Why data: her words are data, and a skill installed from elsewhere declares its intents
the same way mail and calendar do. A pattern's named groups are what the skill's desk
takes from the message (``who``, ``rest``); the router only decides which intent it is.

The TOML (see ``os1/data/intents/calendar.toml``)::

    version = 1
    [words]                  # optional: {name} in a pattern is replaced by this
    day = '''(?:today|tomorrow)'''
    [[intents]]              # tried in this order
    name = "agenda"
    description = "..."     # what the model is told it means
    examples = ["..."]
    patterns = ['''...''']   # a hit: this intent, surely
    maybe = ['''...''']      # a hit: perhaps this intent (the model decides)
    unless = ['''...''']     # a hit: not this intent, whatever else matched
    max_chars = 200          # longer messages are not this intent (0: any length)
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Protocol, runtime_checkable

from os1.errors import ConfigError
from os1.skills.contract import Desk, SkillAnswer

CONVERSATION = "conversation"
MAX_CHARS = 200
_LABEL = re.compile(r"[a-z][a-z0-9_]{0,39}")
_WORD = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Intent:
    skill: str
    name: str
    description: str
    examples: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    maybe: tuple[re.Pattern[str], ...] = ()
    unless: tuple[re.Pattern[str], ...] = ()
    max_chars: int = MAX_CHARS

    @property
    def label(self) -> str:
        """``skill.intent``: how the router and the benchmark name it."""
        return f"{self.skill}.{self.name}"


@dataclass(frozen=True)
class Match:
    """An intent the patterns found in a message: ``sure`` when one of its ``patterns``
    hit (not only a ``maybe``), and the named groups every hitting pattern captured."""

    intent: Intent
    sure: bool
    slots: Mapping[str, str]


@runtime_checkable
class IntentDesk(Desk, Protocol):
    """A desk the router tells which intent a message is (``act``), instead of asking it
    to recognise the message itself (``answer``). ``reply`` is the turn after a proposal
    of its own: the answer to it (yes or no), or None (the proposal lapsed)."""

    def reply(self, text: str) -> SkillAnswer | None: ...
    def act(self, intent: str, text: str, slots: Mapping[str, str]) -> SkillAnswer | None: ...


def read_intents(skill: str, source: Traversable) -> tuple[Intent, ...]:
    """The intents ``source`` declares for ``skill``; ConfigError, naming the file and
    the intent, when one is malformed (a skill's bad data must not pass unnoticed)."""
    try:
        data = tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"The intents of the skill {skill} ({source.name}) can't be read: "
                          f"{exc}.") from exc
    words = data.get("words", {})
    intents = data.get("intents")
    if not isinstance(words, dict) or not isinstance(intents, list) or not intents:
        raise ConfigError(f"The intents of the skill {skill} ({source.name}) must be a "
                          "list of [[intents]] tables (and [words] a table).")
    return tuple(_intent(skill, source.name, entry, words) for entry in intents)


@cache
def builtin_intents(skill: str) -> tuple[Intent, ...]:
    """The intents of one of os1's own skills (``os1/data/intents/<skill>.toml``)."""
    return read_intents(skill, builtin_file(skill))


def builtin_file(skill: str) -> Traversable:
    return resources.files("os1.data").joinpath("intents", f"{skill}.toml")


def find_intents(intents: Sequence[Intent], text: str) -> list[Match]:
    """Every intent whose patterns ``text`` hits and none of whose ``unless`` does, in
    the order declared."""
    found = []
    for intent in intents:
        if intent.max_chars and len(text) > intent.max_chars:
            continue
        if any(p.search(text) for p in intent.unless):
            continue
        sure = [m for p in intent.patterns if (m := p.search(text)) is not None]
        hits = sure or [m for p in intent.maybe if (m := p.search(text)) is not None]
        if hits:
            found.append(Match(intent, bool(sure), _slots(hits)))
    return found


def first_answer(desk: IntentDesk, intents: Sequence[Intent], text: str) -> SkillAnswer | None:
    """A desk asked by itself (without the router): its proposal's reply, else the first
    intent it finds that it can act on, in the order declared."""
    replied = desk.reply(text)
    if replied is not None:
        return replied
    for match in find_intents(intents, text):
        answer = desk.act(match.intent.name, text, match.slots)
        if answer is not None:
            return answer
    return None


def _slots(hits: Sequence[re.Match[str]]) -> dict[str, str]:
    slots: dict[str, str] = {}
    for hit in hits:
        for key, value in hit.groupdict().items():
            if value is not None:
                slots.setdefault(key, value)
    return slots


def _intent(skill: str, file: str, entry: Any, words: Mapping[str, Any]) -> Intent:
    where = f"the skill {skill}'s intents ({file})"
    if not isinstance(entry, dict) or not _LABEL.fullmatch(str(entry.get("name", ""))):
        raise ConfigError(f"In {where}, an intent has no name of lowercase letters, digits "
                          "and '_': each [[intents]] needs one.")
    name = str(entry["name"])
    patterns = [_compiled(where, name, p, words) for p in _strings(where, name, entry, "patterns")]
    maybe = [_compiled(where, name, p, words) for p in _strings(where, name, entry, "maybe")]
    if not patterns and not maybe:
        raise ConfigError(f"In {where}, the intent {name} has no patterns and no maybe.")
    return Intent(skill, name, str(entry.get("description", name)),
                  tuple(_strings(where, name, entry, "examples")), tuple(patterns),
                  tuple(maybe),
                  tuple(_compiled(where, name, p, words)
                        for p in _strings(where, name, entry, "unless")),
                  int(entry.get("max_chars", MAX_CHARS)))


def _strings(where: str, name: str, entry: Mapping[str, Any], key: str) -> list[str]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"In {where}, {key} of the intent {name} must be a list of strings.")
    return value


def _compiled(where: str, name: str, pattern: str, words: Mapping[str, Any]
              ) -> re.Pattern[str]:
    def word(found: re.Match[str]) -> str:
        if found.group(1) not in words:
            raise ConfigError(f"In {where}, the intent {name} uses {{{found.group(1)}}}, "
                              "which [words] does not define.")
        return str(words[found.group(1)])

    expanded = pattern
    for _depth in range(4):  # words may name words ({day} uses {weekday})
        expanded = _WORD.sub(word, expanded)
    try:
        return re.compile(expanded, re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise ConfigError(f"In {where}, a pattern of the intent {name} is not a valid "
                          f"regular expression ({exc}): {pattern}") from exc
