"""Guessing a password costs time and hashing costs bounded memory (issue 25: 200 wrong
guesses, then the right password, logged in; 40 bad logins at once took 1.28 GB)."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Literal

import pytest
from argon2 import PasswordHasher

from os1.server.accounts import AccountStore, AuthError
from os1.server.gate import Busy
from os1.storage.db import Database

pytestmark = pytest.mark.both_backends
PASSWORD = "correct horse battery"


def guessed(store: AccountStore, username: str, times: int) -> None:
    for _ in range(times):
        with pytest.raises(AuthError):
            store.log_in(username, "wrong guess")


def test_wrong_guesses_make_the_name_wait_longer_each_time_and_a_success_clears_them(
        db: Database) -> None:
    now = [1000.0]
    store = AccountStore(db, clock=lambda: now[0])
    store.sign_up("theo", PASSWORD)
    guessed(store, "theo", 5)
    with pytest.raises(Busy) as first:
        store.log_in("Theo", PASSWORD)  # the right password waits too: that is the point
    assert first.value.retry_after_s == 30
    now[0] += 31
    guessed(store, "theo", 1)
    with pytest.raises(Busy) as second:
        store.log_in("theo", PASSWORD)
    assert second.value.retry_after_s == 60
    now[0] += 61
    assert store.log_in("theo", PASSWORD).token
    guessed(store, "theo", 4)  # cleared by the success: four more are free again
    assert store.log_in("theo", PASSWORD).token


def test_a_name_that_does_not_exist_waits_the_same(db: Database) -> None:
    store = AccountStore(db, clock=lambda: 1000.0)
    guessed(store, "nobody", 5)
    with pytest.raises(Busy):
        store.log_in("nobody", "anything at all")


def test_failures_are_forgotten_after_the_window(db: Database) -> None:
    now = [1000.0]
    store = AccountStore(db, clock=lambda: now[0])
    store.sign_up("theo", PASSWORD)
    guessed(store, "theo", 5)
    now[0] += store.guard.rules.window_s + 1
    assert store.log_in("theo", PASSWORD).token


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.running = self.most = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        try:
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


def test_only_a_few_passwords_are_hashed_at_once(db: Database) -> None:
    hasher = CountingHasher()
    store = AccountStore(db, hasher=hasher)
    store.sign_up("theo", PASSWORD)

    def attempt(n: int) -> None:
        with contextlib.suppress(AuthError):
            store.log_in(f"guesser{n}", "wrong guess")

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert hasher.most == store.guard.rules.hashing_at_once
