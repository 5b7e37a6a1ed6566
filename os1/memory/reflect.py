"""Reflection: stepping back from single memories to what they mean, and letting that
change her (the Generative Agents memory stream: observations → insights with pointers to
their evidence → a self that evolves).

Insights are memories of kind "insight", linked to the memories they came from, so
forgetting a memory also forgets what was concluded from it. Her self-model then takes
the new insights into account and, if it changed, is written as a new version whose
reason and sources ``os1 self --history`` shows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from os1.data import fill, read_text
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.memory.ingest import Names
from os1.memory.selfmodel import (
    ASPECTS,
    MAX_ITEM_CHARS,
    MAX_ITEMS,
    SelfHistory,
    SelfModel,
    SelfVersion,
)
from os1.memory.store import Memory, MemoryDraft, MemoryStore

# Reflect once this many new memories (moments aside) have come in since the last time.
REFLECT_AFTER = 12
MIN_MEMORIES = 3
MAX_MEMORIES = 30
MAX_INSIGHTS = 4
INSIGHT_IMPORTANCE = 0.7

INSIGHT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"insights": {"type": "array", "maxItems": MAX_INSIGHTS, "items": {
        "type": "object",
        "properties": {
            "about": {"enum": ["user", "me"]},
            "content": {"type": "string", "maxLength": 300},
            "because": {"type": "array", "minItems": 1, "maxItems": 8,
                        "items": {"type": "integer"}},
        },
        "required": ["about", "content", "because"],
    }}},
    "required": ["insights"],
}

_LIST = {"type": "array", "maxItems": MAX_ITEMS,
         "items": {"type": "string", "maxLength": MAX_ITEM_CHARS}}
SELF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {**{aspect: _LIST for aspect in ASPECTS},
                   "why": {"type": "string", "maxLength": 400}},
    "required": [*ASPECTS, "why"],
}


@dataclass(frozen=True)
class Reflection:
    insights: list[Memory]
    self_version: SelfVersion | None


def unreflected(store: MemoryStore) -> list[Memory]:
    """Memories (moments and her own insights aside) newer than the last reflection."""
    since = store.processed_up_to("reflected")
    return [m for m in store.active()
            if m.id > since and m.kind not in ("moment", "insight", "self")]


def due(store: MemoryStore, threshold: int = REFLECT_AFTER) -> bool:
    return len(unreflected(store)) >= threshold


def reflect(store: MemoryStore, selves: SelfHistory, model: Model, names: Names) -> Reflection:
    """Reflect on what came in since last time; a no-op (but marked) if too little did."""
    fresh = sorted(unreflected(store), key=lambda m: m.id)[-MAX_MEMORIES:]
    newest = max((m.id for m in fresh), default=0)
    if len(fresh) < MIN_MEMORIES:
        if newest:
            store.mark_processed(newest, "reflected")
        return Reflection([], None)
    drafts = _insights(model, fresh, names)
    insights = store.add_many(drafts, processed_up_to=newest, stage="reflected")
    version = grow(selves, model, insights, names) if insights else None
    return Reflection(insights, version)


def grow(selves: SelfHistory, model: Model, insights: list[Memory],
         names: Names) -> SelfVersion | None:
    """Let the insights change her self-model; the new version, or None if unchanged."""
    current = selves.current().model
    prompt = fill(read_text("prompts/grow.txt"), name=names.her, user_name=names.user,
                  self_model=current.to_json(),
                  insights="\n".join(f"- {m.content}" for m in insights))
    raw = complete(model, [Message("user", prompt)],
                   GenerateOptions(max_tokens=400, temperature=0.4, json_schema=SELF_SCHEMA))
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    updated = SelfModel.from_mapping(data)
    reason = str(data.get("why", "")) if isinstance(data, dict) else ""
    return selves.update(updated, reason, tuple(m.id for m in insights))


def _insights(model: Model, fresh: list[Memory], names: Names) -> list[MemoryDraft]:
    listing = "\n".join(f"{n}. {m.content}" for n, m in enumerate(fresh, start=1))
    prompt = fill(read_text("prompts/reflect.txt"), name=names.her, user_name=names.user,
                  memories=listing, max_insights=str(MAX_INSIGHTS))
    raw = complete(model, [Message("user", prompt)],
                   GenerateOptions(max_tokens=500, temperature=0.3, json_schema=INSIGHT_SCHEMA))
    return parse_insights(raw, fresh)


def parse_insights(raw: str, fresh: list[Memory]) -> list[MemoryDraft]:
    """Insights that cite at least one real memory; citations are mapped to memory ids
    and out-of-range numbers dropped (an insight with no valid source is not kept: its
    evidence could not be shown, nor could forgetting reach it)."""
    try:
        items = json.loads(raw)["insights"]
    except (ValueError, KeyError, TypeError):
        return []
    drafts: list[MemoryDraft] = []
    seen: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        content = " ".join(str(item.get("content", "")).split())
        because = item.get("because")
        cited = because if isinstance(because, list) else []
        sources = tuple(dict.fromkeys(
            fresh[n - 1].id for n in cited if isinstance(n, int) and 1 <= n <= len(fresh)))
        if len(content) < 12 or not sources or content.lower() in seen:
            continue
        seen.add(content.lower())
        kind = "self" if item.get("about") == "me" else "insight"
        drafts.append(MemoryDraft(kind, content, importance=INSIGHT_IMPORTANCE,
                                  derived_from=sources))
    return drafts
