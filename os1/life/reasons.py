"""Why she might message him first, found without the model: a plan he told her that is
over now (ask how it went), a promise of hers due today (keep it), a long silence (say she
missed him). Each reason has a key that stays the same however often it is found, so the
outbox can refuse the same reason twice; and a window, outside which it is not a reason.

Why from her memories and not from the conversation: extraction has already read what he
said into dated events and promises ("lunch with Catherine on Thursday" is an event on
that Thursday), and forgetting one takes its reason with it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from os1.life.rules import LifeRules, life_config
from os1.memory.records import Memory
from os1.when.gaps import DAY, describe_gap

ReasonKind = Literal["follow_up", "promise", "missing"]
_CALENDAR_WORDS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday", "january", "february", "march", "april", "may", "june", "july",
                   "august", "september", "october", "november", "december"}


@dataclass(frozen=True)
class Reason:
    kind: ReasonKind
    key: str  # the same for the same reason, every time it is found
    about: str  # the memory's words, or how long the silence has lasted
    due_from: float
    due_until: float
    score: float
    memory_id: int | None = None


def reasons_at(memories: Iterable[Memory], last_heard: float | None, rules: LifeRules,
               now: float) -> list[Reason]:
    """Every reason due at ``now``, best first."""
    kept = list(memories)
    found = [*follow_ups(kept, rules), *promises(kept, rules)]
    silence = missing(last_heard, now)
    if silence is not None:
        found.append(silence)
    return sorted((r for r in found if r.due_from <= now < r.due_until),
                  key=lambda r: (-r.score, r.due_from))


def follow_ups(memories: Iterable[Memory], rules: LifeRules) -> list[Reason]:
    """Plans that are over: from the hour their day's words say they end ("lunch": 15:00)
    until ``window_days`` later. A plan he told her only after it happened is no reason to
    ask how it went: he already said."""
    config: dict[str, Any] = life_config()["follow_up"]
    found = []
    for memory in memories:
        if memory.kind != "event" or memory.event_at is None or not memory.active:
            continue
        over = _at_hour(memory.event_at, _ends_hour(memory.content, config), rules)
        if memory.created_at >= over:
            continue
        until = _at_hour(memory.event_at, 24.0 * int(config["window_days"]), rules)
        found.append(Reason("follow_up", _key("follow_up", memory), memory.content, over,
                            until, _score("follow_up", memory), memory.id))
    return _one_per_plan(found, rules)


def _one_per_plan(reasons: list[Reason], rules: LifeRules) -> list[Reason]:
    """One reason for notes of the same day that name the same person: extraction may
    write one plan twice ("having coffee with Amy on Thursday morning", "promised Amy to
    be there on Thursday morning"), and asking after it twice is nagging."""
    kept: list[Reason] = []
    for reason in sorted(reasons, key=lambda r: (-r.score, r.due_from)):
        day, names = rules.day_start(reason.due_from), set(names_in(reason.about))
        if not any(rules.day_start(k.due_from) == day and names & set(names_in(k.about))
                   for k in kept):
            kept.append(reason)
    return kept


def names_in(note: str) -> list[str]:
    """Capitalised words inside a note, lowercased, but days and months: the people and
    places it names ("Catherine"), not its subject (its first word, him)."""
    return [w.lower() for w in re.findall(r"(?<=[a-z,;] )[A-Z][a-z]+", note)
            if w.lower() not in _CALENDAR_WORDS]


def promises(memories: Iterable[Memory], rules: LifeRules) -> list[Reason]:
    """Her promises with a day: due on that day, from ``from_hour``."""
    from_hour = float(life_config()["promise"]["from_hour"])
    found = []
    for memory in memories:
        if memory.kind != "promise" or memory.event_at is None or not memory.active:
            continue
        start = _at_hour(memory.event_at, from_hour, rules)
        end = _at_hour(memory.event_at, 24.0, rules)
        found.append(Reason("promise", _key("promise", memory), memory.content, start, end,
                            _score("promise", memory), memory.id))
    return found


def missing(last_heard: float | None, now: float) -> Reason | None:
    """A silence of ``after_days`` or more since his last message; one reason per silence
    (its key is the moment he last spoke)."""
    if last_heard is None:
        return None
    start = last_heard + float(life_config()["missing"]["after_days"]) * DAY
    score = float(life_config()["score"]["missing"])
    return Reason("missing", f"missing:{round(last_heard)}", describe_gap(now - last_heard),
                  start, float("inf"), score)


def _ends_hour(content: str, config: dict[str, Any]) -> float:
    """The hour of its day a plan is over by: the first word of ``ends_at`` in it."""
    ends: dict[str, int] = config["ends_at"]
    words = re.findall(r"[a-z]+", content.lower())
    return float(next((ends[w] for w in words if w in ends), config["evening_hour"]))


def _at_hour(event_at: float, hours: float, rules: LifeRules) -> float:
    """``hours`` after midnight (his time) of the day ``event_at`` falls in."""
    local = datetime.fromtimestamp(event_at, rules.zone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    days, hour = divmod(hours, 24.0)
    day = (midnight.date() + timedelta(days=int(days)))
    return (datetime.combine(day, midnight.timetz()) + timedelta(hours=hour)).timestamp()


def _key(kind: str, memory: Memory) -> str:
    """Stable across an export and import (which renumber memories): the words and the
    day, not the id."""
    digest = hashlib.sha256(f"{memory.content}|{round(memory.event_at or 0)}".encode())
    return f"{kind}:{digest.hexdigest()[:16]}"


def _score(kind: ReasonKind, memory: Memory) -> float:
    return float(life_config()["score"][kind]) * (0.5 + min(1.0, memory.importance) / 2)
