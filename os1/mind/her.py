"""Her, put together for one person: the one place a ``Companion`` is built, for
``os1 chat``, ``os1 talk`` and ``os1 serve`` alike, so a part added to her (a skill, a
guard) reaches every way of talking to her at once. What differs between a terminal and a
server (a shared steering and critic, the memory writer's gate, a model lent per turn) is
passed in."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from os1.config import Settings
from os1.llm.base import Model
from os1.mind.companion import Companion
from os1.mind.critic import Critic
from os1.mind.recollection import Recollection
from os1.mind.skilled import skill_desks
from os1.mind.steering import Steering
from os1.storage.db import Database


def companion_for(model: Model, db: Database, settings: Settings,
                  memory: Recollection | None, *, steering: Steering | None,
                  critic: Critic | None,
                  busy: Callable[[], AbstractContextManager[object]] = nullcontext,
                  after_reply: Callable[[], None] = lambda: None,
                  clock: Callable[[], float] = time.time) -> Companion:
    """Her with her memory (None: only the conversation) and every installed skill; a
    skill drafts with whichever model she holds at the time (a server lends each turn a
    worker of its own)."""
    companion = Companion(model, db, settings, steering=steering, clock=clock, memory=memory,
                          critic=critic, busy=busy, after_reply=after_reply)
    companion.desk = skill_desks(settings, db, lambda: companion.model,
                                 memory.store.text_search if memory is not None else None)
    return companion
