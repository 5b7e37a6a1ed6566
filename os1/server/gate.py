"""Sharing the model between many people: a bounded, first-come queue, one turn per person
at a time, and a per-person request budget.

Why bounded: with an unbounded queue the thousandth person waits minutes for a first word
and cannot tell that from a hang. Past ``max_waiting`` she answers at once that she is busy,
with an estimate of when to try again (from the recent mean turn time). Why one turn per
person: someone sending ten messages at once must not take ten places in the queue ahead
of everyone else.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from os1.errors import OS1Error

MEAN_TURN_S = 5.0  # the estimate before any turn has finished


class Busy(OS1Error):
    """Come back later; ``retry_after_s`` says when."""

    def __init__(self, message: str, retry_after_s: int, hint: str = "") -> None:
        super().__init__(message, hint or f"Try again in {retry_after_s} s.")
        self.retry_after_s = retry_after_s


class Unavailable(Busy):
    """She can't talk now at all (loading, failed, or shutting down): a 503, not a 429."""


@dataclass(frozen=True)
class GateStatus:
    running: int
    waiting: int
    slots: int
    max_waiting: int
    mean_turn_s: float


class TurnGate:
    """Lives on the event loop: a waiting turn is a future, not a thread, so thousands
    waiting cost next to nothing. Only an admitted turn gets a thread (``turn_stream.py``)."""

    def __init__(self, slots: int = 1, max_waiting: int = 16) -> None:
        self.slots = slots
        self.max_waiting = max_waiting
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._running = 0
        self._users: set[str] = set()
        self._mean_s = MEAN_TURN_S

    @asynccontextmanager
    async def turn(self, user_id: str) -> AsyncIterator[None]:
        """Hold a model slot for one turn: first come, first served; Busy if the queue
        is full or the person has a turn already. Cancelling the wait gives the place up."""
        self._admit(user_id)
        try:
            if self._running >= self.slots or self._waiting:
                place: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                self._waiting.append(place)
                try:
                    await place
                except BaseException:
                    if place in self._waiting:
                        self._waiting.remove(place)
                    elif _handed_slot(place):
                        self._running -= 1  # it was handed the slot as it was cancelled
                        self._wake()
                    raise
            else:
                self._running += 1
        except BaseException:
            self._users.discard(user_id)
            raise
        began = time.monotonic()
        try:
            yield
        finally:
            self._running -= 1
            self._users.discard(user_id)
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.monotonic() - began)
            self._wake()

    def full(self) -> bool:
        """A new turn would have to wait, and no more may (``max_waiting`` 0: none may)."""
        must_wait = self._running >= self.slots or bool(self._waiting)
        return must_wait and len(self._waiting) >= self.max_waiting

    def status(self) -> GateStatus:
        return GateStatus(self._running, len(self._waiting), self.slots, self.max_waiting,
                          round(self._mean_s, 2))

    def retry_after(self) -> int:
        ahead = len(self._waiting) + self._running
        return max(1, math.ceil(self._mean_s * ahead / self.slots))

    def refuse_waiting(self, why: Unavailable) -> int:
        """Send every turn still waiting away with ``why`` (the server is going to sleep:
        nothing of theirs is stored yet, so they lose nothing); how many there were."""
        refused = 0
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_exception(why)
                refused += 1
        return refused

    async def drain(self, timeout: float) -> bool:
        """Wait for running and waiting turns to finish (a graceful shutdown)."""
        deadline = time.monotonic() + timeout
        while (self._running or self._waiting) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return not (self._running or self._waiting)

    def _admit(self, user_id: str) -> None:
        if user_id in self._users:
            raise Busy("Your previous message is still being answered.", 1,
                       "Wait for her reply to finish, then send the next one.")
        if self.full():
            waiting = len(self._waiting)
            raise Busy("She is answering someone else right now." if not waiting else
                       f"She is talking with many people right now ({waiting} waiting).",
                       self.retry_after())
        self._users.add(user_id)

    def _wake(self) -> None:
        """Hand free slots to the longest-waiting turns."""
        while self._waiting and self._running < self.slots:
            place = self._waiting.popleft()
            if not place.done():
                self._running += 1
                place.set_result(None)


def _handed_slot(place: asyncio.Future[None]) -> bool:
    """Whether a place that stopped waiting had been given a model slot (and not a
    refusal, nor a cancellation)."""
    return place.done() and not place.cancelled() and place.exception() is None


class RateLimiter:
    """A token bucket per key (a person, or an address): ``burst`` requests at once, then
    ``per_minute``; ``message`` is what the refusal says."""

    def __init__(self, per_minute: float, burst: int,
                 clock: Callable[[], float] = time.monotonic,
                 message: str = "Too many requests from your account.") -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.message = message
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
                raise Busy(self.message, wait)
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > 100_000:  # forget the full, so memory stays bounded
                full_after = max(120.0, self.burst / self.rate)
                self._buckets = {k: v for k, v in self._buckets.items()
                                 if now - v[1] < full_after}
