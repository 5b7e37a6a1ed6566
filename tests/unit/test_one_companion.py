"""A companion is built in one place (mind/her.py) for os1 chat, os1 talk and os1 serve,
so a part added to her reaches every way of talking to her."""

from __future__ import annotations

import ast
from pathlib import Path

import os1

ROOT = Path(os1.__file__).parent


def builders(source: str) -> list[int]:
    """The lines of ``source`` that call ``Companion(...)``."""
    return [node.lineno for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            and node.func.id == "Companion"]


def test_the_check_sees_a_companion_built() -> None:
    assert builders("c = Companion(model, db, settings)\nd = RemoteCompanion(u, t)") == [1]


def test_only_mind_her_builds_a_companion() -> None:
    found = {str(path.relative_to(ROOT)): lines for path in ROOT.rglob("*.py")
             if (lines := builders(path.read_text(encoding="utf-8")))}
    assert found == {"mind/her.py": found.get("mind/her.py", [])} and found, found
