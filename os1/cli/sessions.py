"""What ``os1 chat``, ``os1 say`` and ``os1 talk`` open around a conversation: her
long-term memory, the companion that uses it, and reminders said while it is open."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from os1.calendar.reminders import ReminderBell, Reminders
from os1.config import Settings
from os1.life.rules import life_config
from os1.life.scheduler import LifeScheduler, machine_idle
from os1.llm.base import Model
from os1.memory.embedders import open_embedder
from os1.memory.worker import PreemptibleModel
from os1.mind.companion import Companion
from os1.mind.critic import Critic
from os1.mind.her import companion_for
from os1.mind.memory_session import MemorySession, open_memory
from os1.mind.steering import Steering
from os1.storage.db import Database
from os1.ui.commands import count_bar, progress_bar


@contextmanager
def remembering(settings: Settings, db: Database, llm: Model) -> Iterator[MemorySession]:
    """Her long-term memory for this session; the worker stops (work in flight is left
    for next time, nothing lost) when the session ends."""
    memory = open_memory(settings, db, llm,
                         open_embedder(settings.embedder, settings.cache_dir, progress_bar))
    # switched embedders: every memory re-embedded now, in sight, not on the first recall;
    # likewise a big memory's vector index, loaded or built
    memory.recollection.store.repair_embeddings(count_bar)
    memory.recollection.store.prepare_index(count_bar)
    try:
        yield memory
    finally:
        memory.close()


def with_memory(llm: Model, db: Database, settings: Settings,
                memory: MemorySession) -> Companion:
    return companion_for(llm, db, settings, memory.recollection, steering=Steering.load(),
                         critic=Critic.sharing(memory.recollection.store.embedder),
                         busy=memory.worker.gate.busy, after_reply=memory.worker.wake)


@contextmanager
def reminding(settings: Settings, db: Database, say: Callable[[str], None]) -> Iterator[None]:
    """Her reminders ("you have a meeting in five minutes") said through ``say`` while
    the conversation is open."""
    bell = ReminderBell(Reminders(db, settings.user), say)
    bell.check()  # what is due as the conversation opens is said first, not by chance
    bell.start()
    try:
        yield
    finally:
        bell.stop()
        bell.join(timeout=5)


@contextmanager
def her_own_time(settings: Settings, db: Database, llm: Model,
                 memory: MemorySession) -> Iterator[None]:
    """Her own time while the conversation is open (os1/life/): a look now and then,
    only when no reply has run for ``talking_minutes`` and the machine is idle, on her
    model given way to any reply at its next token. What she writes waits for the next
    greeting."""
    gate = memory.worker.gate
    quiet_s = float(life_config()["time"]["talking_minutes"]) * 60
    scheduler = LifeScheduler(db, lambda: [settings.user],
                              lambda: PreemptibleModel(llm, gate),
                              idle=lambda: gate.quiet_for() >= quiet_s and machine_idle())
    scheduler.start()
    try:
        yield
    finally:
        scheduler.stop()
