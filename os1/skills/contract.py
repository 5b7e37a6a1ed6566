"""The one contract every skill plugs in through, built-in or installed from elsewhere.

A skill is found through the ``os1.skills`` entry-point group (``registry.py``), so mail
and calendar register the same way a third-party package would. It declares what it can
do; os1 asks it for each part only where that part is used (``os1 chat`` never builds a
server route, ``os1 serve`` never a CLI group), so declaring costs nothing.

Everything a skill does outside os1 on the person's behalf is proposed first, logged in
the action log, and done only if the very next turn says yes (``proposals.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from os1.config import Settings
from os1.llm.base import Model
from os1.storage.db import Database

if TYPE_CHECKING:
    from os1.memory.records import Memory

# Her long-term memory, asked by words: the best ``limit`` memories with their scores.
MemorySearch = Callable[[Sequence[str], int], "list[tuple[Memory, float]]"]


@dataclass(frozen=True)
class SkillAnswer:
    """What she says, and what the conversation log keeps of it: the log goes back into
    the model's prompt in later turns, so a skill that quotes strangers (mail) keeps a
    neutral account there instead of their words.

    ``sound``: a WAV file the face plays after ``said`` (a piece she composed), because
    some answers are heard, not read: ``os1 talk`` plays it through the speakers (or into
    its ``--output`` file) and talking over it stops it as it stops her voice; ``os1 chat``
    prints where it is; the web conversation leaves it out (a path on the server means
    nothing to a page: the skill's own view plays it)."""

    said: str
    kept: str
    sound: Path | None = None


class Desk(Protocol):
    """A skill's part in a conversation with one person: requests it answers from its
    records, not the model. A proposal holds for the very next turn only, so a desk is
    told (``passed``) of each turn that went elsewhere."""

    def answer(self, text: str) -> SkillAnswer | None: ...
    def passed(self) -> None: ...


@dataclass(frozen=True)
class Person:
    """What a skill is given to serve one person, the same in ``os1 chat``, ``os1 talk``
    and ``os1 serve``. ``model`` is asked for only when needed (a server lends each turn
    a worker of its own); ``memories`` is None without her long-term memory."""

    settings: Settings
    db: Database
    model: Callable[[], Model]
    memories: MemorySearch | None
    name: str


class Skill(Protocol):
    """One capability. ``name`` is its entry point's name and its CLI group's; ``order``
    says who is asked first when two could answer (lower first)."""

    name: str
    order: int

    def desk(self, person: Person) -> Desk | None: ...
    def intents(self) -> Traversable | None: ...
    def commands(self) -> Any: ...
    def router(self) -> Any: ...
    def view(self) -> Traversable | None: ...
    def forget(self, settings: Settings, db: Database) -> int: ...


class BaseSkill:
    """Defaults for a skill that declares only some parts: nothing, for each."""

    name = ""
    order = 100

    def desk(self, person: Person) -> Desk | None:
        return None

    def intents(self) -> Traversable | None:
        """Its intents' TOML (example phrasings and patterns), read by the router."""
        return None

    def commands(self) -> Any:
        """Its ``click`` command group (``os1 <name> ...``), or None."""
        return None

    def router(self) -> Any:
        """Its FastAPI ``APIRouter``, mounted under ``/api/skills/<name>``, or None."""
        return None

    def view(self) -> Traversable | None:
        """A folder of static files its web view is made of, or None."""
        return None

    def forget(self, settings: Settings, db: Database) -> int:
        """Remove what it keeps for ``settings.user`` outside the database (kept
        passwords), and say how many passwords went. Called by forget-me before the
        person's rows are deleted (they say what was kept); the rows go with the
        person's other rows, and the things it made (``storage/artefacts.py``) with
        theirs."""
        return 0
