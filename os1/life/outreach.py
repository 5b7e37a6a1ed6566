"""She messages him first, with restraint: only for a reason (reasons.py), only within his
rules (rules.py), only the best reason, never one twice, never while he is talking, and
only within her model-time budget. What she writes waits in the outbox until he comes.

Why the cheap checks come first: the rules and the reasons are read from the database in
milliseconds, and the model is woken only when there is something to say and the right
to say it. What was decided against ("quiet hours", "cap reached") is returned to the
caller and never becomes a message.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from os1.data import fill
from os1.life.diary import LifeLog
from os1.life.outbox import Outbox, Outreach
from os1.life.reasons import Reason, reasons_at
from os1.life.rules import LifeRules, LifeRulesStore, life_config
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.memory.dated import dated_memories
from os1.storage.conversations import ConversationLog
from os1.storage.db import Database
from os1.storage.setups import SetupStore
from os1.when.gaps import DAY

WORDS_TOKENS = 80
MIN_WORDS, MAX_WORDS = 3, 60
_NOT_WORDS = re.compile(r"[<>\[\]{}|`]")
_SENTENCES = re.compile(r"[^.!?]+[.!?]+")


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
    text = her_message(model(), decision.reason, setup.user_name, setup.companion_name)
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


def her_message(model: Model, reason: Reason, user_name: str, name: str) -> str | None:
    """Her message for ``reason``, or None when the model's words are not one (empty,
    markup, a list, far too long)."""
    words = life_config()["words"]
    why = fill(str(words[reason.kind]), user_name=user_name, memory=reason.about,
               since=reason.about)
    prompt = fill(str(words["prompt"]), name=name, user_name=user_name, reason=why)
    reply = complete(model, [Message("user", prompt)],
                     GenerateOptions(max_tokens=WORDS_TOKENS, temperature=0.7,
                                     stop=("\n\n",), repeat_penalty=1.1))
    return sendable(reply, name)


def sendable(reply: str, name: str) -> str | None:
    """At most two sentences of ``reply``, without a speaker's label or quotation marks;
    None when what is left is not a short message."""
    text = " ".join(reply.split())
    text = re.sub(rf"^(?:{re.escape(name)}|message)\s*:\s*", "", text, flags=re.IGNORECASE)
    text = text.strip().strip('"“”').strip()
    sentences = _SENTENCES.findall(text)
    if sentences:
        text = "".join(sentences[:2]).strip()
    count = len(text.split())
    if not MIN_WORDS <= count <= MAX_WORDS or _NOT_WORDS.search(text):
        return None
    return text
