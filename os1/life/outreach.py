"""She messages him first, with restraint: only for a reason (reasons.py), only within his
rules (rules.py), only the best reason, never one twice, never while he is talking, and
only within her model-time budget. What she writes waits in the outbox until he comes.

Why the cheap checks come first: the rules and the reasons are read from the database in
milliseconds, and the model is woken only when there is something to say and the right
to say it. What was decided against ("quiet hours", "cap reached") is returned to the
caller and never becomes a message.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from os1.data import fill, read_text
from os1.life.diary import LifeLog
from os1.life.outbox import Outbox, Outreach
from os1.life.reasons import Reason, names_in, reasons_at
from os1.life.rules import LifeRules, LifeRulesStore, life_config
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.memory.dated import dated_memories
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.when.gaps import DAY

NAMING_TRIES = 3  # the first greedy, the others sampled
# words a plan's name doesn't start or end on: when it was (she asks once it is over) and
# words left hanging
_HANGING = {"on", "in", "at", "to", "for", "with", "and", "this", "next",
             "remind", "today", "tonight", "tomorrow", "morning", "afternoon", "evening",
             "night", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
             "sunday", "week", "weekend"}
_PRONOUNS = {"he", "him", "she", "her", "hers", "they", "them", "their", "i", "me", "my"}


@dataclass(frozen=True)
class Decision:
    """The reason to act on, or why not (for her log; never said to him)."""

    reason: Reason | None
    why: str


def decide(reasons: Sequence[Reason], rules: LifeRules, outbox: Outbox, now: float,
           talking: bool) -> Decision:
    """The best reason she may act on now, after his rules; the cheap checks only."""
    held = ("her time is paused" if rules.paused
            else "he asked her never to message first" if not rules.reach_out
            else "he is talking with her" if talking
            else "his quiet hours" if rules.is_quiet(now)
            else "today's messages are used up"
            if outbox.started_since(rules.day_start(now)) >= rules.daily_cap else "")
    if held:
        return Decision(None, held)
    fresh = [r for r in reasons if not outbox.acted_on(r.key)]
    if not fresh:
        return Decision(None, "nothing to say")
    return Decision(fresh[0], f"{fresh[0].kind}: {fresh[0].about}")


def reach_out(db: Database, user_id: str, model: Callable[[], Model], now: float,
              talking: bool = False) -> Outreach | None:
    """One look at whether she should message this person now, and the message if so."""
    setup = SetupStore(db, user_id).current()
    if setup is None:
        return None
    rules = LifeRulesStore(db, user_id).get()
    talking = talking or is_talking(db, user_id, now)
    since = now - (int(life_config()["follow_up"]["window_days"]) + 1) * DAY
    memories = dated_memories(db, user_id, ("event", "promise"), since)
    reasons = reasons_at(memories, last_heard(db, user_id), rules, now)
    outbox, log = Outbox(db, user_id), LifeLog(db, user_id)
    decision = decide(reasons, rules, outbox, now, talking)
    if decision.reason is None:
        return None
    if log.spent_since(rules.day_start(now)) >= rules.budget_minutes * 60:
        return None
    started = time.monotonic()
    text = her_message(model(), decision.reason, setup.user_name)
    cost = time.monotonic() - started
    if text is None:
        log.add("found no words", decision.why, now, cost)
        return None
    sent = outbox.add(decision.reason, text, now)
    log.add("wrote to him" if sent else "had written already", decision.why, now, cost)
    return sent


def is_talking(db: Database, user_id: str, now: float) -> bool:
    """Whether anything passed between them in the last ``talking_minutes``."""
    last = ConversationLog(db, user_id).last()
    minutes = float(life_config()["time"]["talking_minutes"])
    return last is not None and now - last.created_at < minutes * 60


def last_heard(db: Database, user_id: str) -> float | None:
    """When he last said anything to her."""
    for message in reversed(ConversationLog(db, user_id).recent(50)):
        if message.role == "user":
            return message.created_at
    return None


def her_message(model: Model, reason: Reason, user_name: str) -> str | None:
    """Her message for ``reason``: a line of ``life.toml`` with the plan named in it; None
    when the model's name for the plan is not grounded in her note."""
    words = life_config()["words"]
    lines: list[str] = words[reason.kind]
    line = lines[int(hashlib.sha256(reason.key.encode()).hexdigest(), 16) % len(lines)]
    if reason.kind == "missing":
        return fill(line, since=reason.about)
    for attempt in range(NAMING_TRIES):
        what = plan_name(model, reason.about, user_name, temperature=0.0 if attempt == 0
                         else 0.6)
        if what is not None:
            return fill(line, what=what)
    return None


def plan_name(model: Model, note: str, user_name: str, temperature: float = 0.0
              ) -> str | None:
    """The plan in ``note`` in a few words, said to him ("lunch with Catherine"); None
    when no word of it is in the note (made up), or it names him or someone by a
    pronoun (the note's third person, not hers to say)."""
    prompt = fill(str(life_config()["words"]["name_plan"]), user_name=user_name,
                  memory=note.rstrip(" ."))
    reply = complete(model, [Message("user", prompt)],
                     GenerateOptions(max_tokens=16, temperature=temperature,
                                     grammar=read_text("grammars/plan_name.gbnf")))
    words = [w.lower() for w in re.findall(r"[A-Za-z'-]+", reply)]
    words = ["your" if w == "his" else w for w in words]
    while words and words[-1] in _HANGING:  # "lunch with Catherine on Thursday", "to"
        words.pop()
    while words and words[0] in _HANGING:  # "on Thursday morning with Amy"
        words.pop(0)
    noted = {w[:4] for w in re.findall(r"[a-z]+", note.lower()) if len(w) > 3}
    bare = {w.split("'")[0] for w in words}  # "theo's" is his name too
    if not words or bare & {*user_name.lower().split()} or bare & _PRONOUNS:
        return None
    if not any(w[:4] in noted for w in words if len(w) > 3):
        return None
    phrase = " ".join(words)
    names = names_in(note)
    if not names:
        return phrase
    return re.sub(r"\b(" + "|".join(map(re.escape, names)) + r")\b",
                  lambda m: m.group(0).title(), phrase)
