"""Guessing a password costs time, and hashing one costs bounded memory.

Found by attack (issue 25): 200 wrong guesses, then the right password, logged in; 40
concurrent bad logins took the server from 143 MB to 1.28 GB (argon2 is memory-hard on
purpose, and every attempt hashed at once). Failures are counted per username in the
database, so every worker of a PostgreSQL deployment sees them, for names that exist or
not (a lock tells an attacker nothing about which do). After ``free_tries`` failures in
``window_s`` the name waits, twice as long after each further failure, up to
``longest_wait_s``; a success clears its count. At most ``hashing_at_once`` hashes run at
a time; the others wait their turn, holding no memory.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from os1.server.gate import Busy
from os1.storage.accounts import LoginFailures
from os1.storage.db import Database


@dataclass(frozen=True)
class GuardRules:
    free_tries: int = 5
    window_s: float = 900.0
    first_wait_s: float = 30.0
    longest_wait_s: float = 900.0
    hashing_at_once: int = 2


class LoginGuard:
    def __init__(self, db: Database, rules: GuardRules = GuardRules(),
                 clock: Callable[[], float] = time.time) -> None:
        self._failures = LoginFailures(db)
        self.rules = rules
        self._clock = clock
        self._hashing = threading.BoundedSemaphore(rules.hashing_at_once)

    def check(self, username: str) -> None:
        """Busy (429) while ``username`` has to wait after too many wrong passwords."""
        now = self._clock()
        failures, last = self._failures.since(username, now - self.rules.window_s)
        if failures < self.rules.free_tries or last is None:
            return
        wait = min(self.rules.longest_wait_s,
                   self.rules.first_wait_s * 2 ** (failures - self.rules.free_tries))
        left = math.ceil(last + wait - now)
        if left > 0:
            raise Busy("Too many wrong passwords for that username.", left)

    def failed(self, username: str) -> None:
        now = self._clock()
        self._failures.add(username, now, now - self.rules.window_s)

    def succeeded(self, username: str) -> None:
        self._failures.clear(username)

    @contextmanager
    def hashing(self) -> Iterator[None]:
        with self._hashing:
            yield
