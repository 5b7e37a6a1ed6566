"""Unit tests only: no OS1_* setting and no model cache leaks in from the environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, os1_home: Path) -> None:
    for name in list(os.environ):
        if name.startswith("OS1_") and name != "OS1_HOME":
            monkeypatch.delenv(name)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # A unit test must never assemble the real bundled model into the shared cache.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at the lowest cost: the server's own cost (tens of milliseconds a hash, on
    purpose) would make the account tests slow and prove nothing more. Same algorithm,
    same code paths."""
    from argon2 import PasswordHasher

    monkeypatch.setattr("os1.server.accounts.PasswordHasher",
                        lambda: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
