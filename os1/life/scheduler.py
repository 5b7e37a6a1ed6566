"""Her own time in a running process (``os1 chat``, ``os1 serve``, ``os1 live``): every so
often, for each person in turn, one look at whether she should message them, only while
the machine is idle and never while they are talking with her.

Why a look is cheap: it reads rules, dated memories and the outbox; the model is asked
for words only when there is a reason and the right to act on it (outreach.py), and
it is loaded only then (``model`` is called, not held).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable

from os1.life.outbox import Outreach
from os1.life.outreach import reach_out
from os1.life.rules import life_config
from os1.llm.base import Model
from os1.memory.worker import Preempted
from os1.storage.db import Database


def machine_idle() -> bool:
    """Whether the load per core is under ``idle_load``."""
    load = os.getloadavg()[0] / max(1, os.cpu_count() or 1)
    return load < float(life_config()["time"]["idle_load"])


class LifeScheduler:
    def __init__(self, db: Database, people: Callable[[], list[str]],
                 model: Callable[[], Model], clock: Callable[[], float] = time.time,
                 idle: Callable[[], bool] = machine_idle,
                 on_sent: Callable[[Outreach], None] = lambda _: None) -> None:
        self._db = db
        self._people = people
        self._model = model
        self._clock = clock
        self._idle = idle
        self._on_sent = on_sent
        self._turn = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[Outreach]:
        """One look for each person while the machine stays idle, starting after the last
        one looked at, so that no one is always last when it stops being idle."""
        people = self._people()
        start = self._turn % len(people) if people else 0
        sent = []
        for user_id in [*people[start:], *people[:start]]:
            if self._stop.is_set() or not self._idle():
                break
            self._turn += 1
            try:
                message = reach_out(self._db, user_id, self._model, self._clock())
            except Preempted:  # he began talking: nothing was kept, the look is redone
                break
            if message is not None:
                sent.append(message)
                self._on_sent(message)
        return sent

    def run(self) -> None:
        """Look every ``every_seconds`` until ``stop``."""
        every = float(life_config()["time"]["every_seconds"])
        while not self._stop.wait(every):
            self.tick()

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="her-time", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
