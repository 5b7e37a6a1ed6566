"""Sharing the model between many people: a bounded, first-come queue, one turn per person
at a time, and a per-person request budget.

Why bounded: with an unbounded queue the thousandth person waits minutes for a first word
and cannot tell that from a hang. Past ``max_waiting`` she answers at once that she is busy,
with an estimate of when to try again (from the recent mean turn time). Why one turn per
person: someone sending ten messages at once must not take ten places in the queue ahead
of everyone else.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from os1.errors import OS1Error

MEAN_TURN_S = 5.0  # the estimate before any turn has finished


class Busy(OS1Error):
    """Come back later; ``retry_after_s`` says when."""

    def __init__(self, message: str, retry_after_s: int, hint: str = "") -> None:
        super().__init__(message, hint or f"Try again in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class Cancelled(OS1Error):
    """The client went away while its turn was waiting."""


@dataclass(frozen=True)
class GateStatus:
    running: int
    waiting: int
    slots: int
    max_waiting: int
    mean_turn_s: float


class TurnGate:
    def __init__(self, slots: int = 1, max_waiting: int = 16) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self._cond = threading.Condition()
        self._queue: deque[object] = deque()
        self._running = 0
        self._users: set[str] = set()
        self._mean_s = MEAN_TURN_S

    @contextmanager
    def turn(self, user_id: str, cancelled: threading.Event | None = None) -> Iterator[None]:
        """Hold a model slot for one turn; waits its turn, or raises Busy or Cancelled."""
        ticket = object()
        with self._cond:
            self._admit(user_id, ticket)
            try:
                while not (self._queue[0] is ticket and self._running < self.slots):
                    if cancelled is not None and cancelled.is_set():
                        raise Cancelled("The client left before its turn came.")
                    self._cond.wait(0.1)
            except BaseException:
                self._queue.remove(ticket)
                self._users.discard(user_id)
                self._cond.notify_all()
                raise
            self._queue.popleft()
            self._running += 1
            self._cond.notify_all()
        began = time.monotonic()
        try:
            yield
        finally:
            with self._cond:
                self._running -= 1
                self._users.discard(user_id)
                self._mean_s = 0.8 * self._mean_s + 0.2 * (time.monotonic() - began)
                self._cond.notify_all()

    def status(self) -> GateStatus:
        with self._cond:
            return GateStatus(self._running, len(self._queue), self.slots, self.max_waiting,
                              round(self._mean_s, 2))

    def retry_after(self) -> int:
        with self._cond:
            return self._estimate()

    def drain(self, timeout: float) -> bool:
        """Wait for running and waiting turns to finish (a graceful shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running and not self._queue, timeout)

    def _admit(self, user_id: str, ticket: object) -> None:
        if user_id in self._users:
            raise Busy("Your previous message is still being answered.", 1,
                       "Wait for her reply to finish, then send the next one.")
        if len(self._queue) >= self.max_waiting:
            raise Busy(f"She is talking with many people right now ({len(self._queue)} "
                       "waiting).", self._estimate())
        self._users.add(user_id)
        self._queue.append(ticket)

    def _estimate(self) -> int:
        ahead = len(self._queue) + self._running
        return max(1, math.ceil(self._mean_s * ahead / self.slots))


class RateLimiter:
    """A token bucket per person: ``burst`` requests at once, then ``per_minute``."""

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str) -> None:
        """Spend one request of ``key``'s budget; Busy (429) when it is spent."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - then) * self.rate)
            if tokens < 1:
                wait = math.ceil((1 - tokens) / self.rate)
                self._buckets[key] = (tokens, now)
                raise Busy("Too many requests from your account.", wait)
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # forget the idle, so memory stays bounded
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 120}
