"""What one memory is, apart from where it is kept: the records her memory hands out, the
checks a new one must pass, and how a row becomes a record.

Why apart from memories.py: most of os1 reads memories (recall, notes, the mail's
"my sister", the CLI and the server) without storing any; they need the records, not the
store's SQL. The audit trail's one line is written here too, by the store and by
forgetting (forgetting.py) alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from os1.errors import InputError, OS1Error
from os1.storage.db import Connection, Row

KINDS = ("moment", "fact", "event", "preference", "feeling", "promise", "person", "insight",
         "self")
MAX_CONTENT_CHARS = 2000
# The columns a Memory is read from, bare and as ``m.`` of a joined query.
COLUMNS = ("id, kind, content, subject, importance, created_at, event_at,"
           " source_message_ids, superseded_by, superseded_at, context")
M_COLUMNS = ", ".join("m." + column.strip() for column in COLUMNS.split(","))


class MemoryNotFound(OS1Error):
    def __init__(self, memory_id: int) -> None:
        super().__init__(
            f"There is no memory {memory_id}: it doesn't exist, or it belongs to no-one "
            "you can see.",
            "See the memories there are with: os1 memory list",
        )
        self.memory_id = memory_id


@dataclass(frozen=True)
class Memory:
    id: int
    kind: str
    content: str
    subject: str
    importance: float
    created_at: float
    event_at: float | None
    sources: tuple[int, ...]
    superseded_by: int | None
    superseded_at: float | None
    # A moment's previous moment in the same session ('' for the first, and for every
    # other kind): searchable beside the content, never shown as the memory.
    context: str = ""

    @property
    def active(self) -> bool:
        return self.superseded_by is None

    @property
    def when(self) -> float:
        """When it happened if known, else when she learned it."""
        return self.created_at if self.event_at is None else self.event_at


@dataclass(frozen=True)
class MemoryDraft:
    """A memory not yet stored (for ``add_many``); fields as in ``MemoryStore.add``."""

    kind: str
    content: str
    subject: str = ""
    importance: float = 0.5
    event_at: float | None = None
    sources: Sequence[int] = ()
    derived_from: Sequence[int] = ()
    replaces: int | None = None
    # For a moment: the moment said just before it in the same session, by this user's
    # store (see ``previous_moment``); '' otherwise.
    context: str = ""


@dataclass(frozen=True)
class MemoryEvent:
    """One line of the audit trail. ``detail`` is JSON of ids only, never content."""

    memory_id: int
    action: str
    at: float
    detail: str | None


def validated(draft: MemoryDraft) -> MemoryDraft:
    """The draft with content trimmed, subject normalised and importance clamped; raises
    ``InputError`` for what can't be stored."""
    if draft.kind not in KINDS:
        raise InputError(f"Unknown kind of memory: {draft.kind!r}.",
                         f"Use one of: {', '.join(KINDS)}.")
    content = draft.content.strip()
    if not content:
        raise InputError("A memory can't be empty.", "Say what to remember.")
    if len(content) > MAX_CONTENT_CHARS:
        raise InputError(
            f"That memory is {len(content)} characters long; the most is {MAX_CONTENT_CHARS}.",
            "Keep a memory to a few sentences, or split it.")
    importance = 0.5 if math.isnan(draft.importance) else min(1.0, max(0.0, draft.importance))
    subject = " ".join(draft.subject.split()).lower()
    context = draft.context.strip()[:MAX_CONTENT_CHARS] if draft.kind == "moment" else ""
    return MemoryDraft(draft.kind, content, subject, importance, draft.event_at,
                       tuple(int(s) for s in draft.sources),
                       tuple(dict.fromkeys(int(d) for d in draft.derived_from)),
                       draft.replaces, context)


def memory_from_row(row: Row) -> Memory:
    return Memory(
        id=int(row["id"]), kind=str(row["kind"]), content=str(row["content"]),
        subject=str(row["subject"]), importance=float(row["importance"]),
        created_at=float(row["created_at"]), event_at=row["event_at"],
        sources=tuple(int(s) for s in json.loads(row["source_message_ids"])),
        superseded_by=row["superseded_by"], superseded_at=row["superseded_at"],
        context=str(row["context"]))


def record_event(tx: Connection, user_id: str, memory_id: int, action: str, at: float,
                 detail: dict[str, int] | None = None) -> None:
    """One line of ``user_id``'s audit trail: ids and times only."""
    tx.execute(
        "INSERT INTO memory_events(user_id, memory_id, action, at, detail)"
        " VALUES (?,?,?,?,?)",
        (user_id, memory_id, action, at, None if detail is None else json.dumps(detail)))
