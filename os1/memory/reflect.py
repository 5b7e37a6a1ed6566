"""Reflection: stepping back from single memories to what they mean, and letting that
change her (the Generative Agents memory stream: observations → insights with pointers to
their evidence → a self that evolves).

Insights are memories of kind "insight", linked to the memories they came from, so
forgetting a memory also forgets what was concluded from it. Her self-model then takes
the new insights into account and, if it changed, is written as a new version whose
reason and sources ``os1 self --history`` shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from os1.data import fill, read_text
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.memory.extract import grounded
from os1.memory.ingest import Names
from os1.memory.memories import MemoryStore
from os1.memory.records import Memory, MemoryDraft
from os1.memory.selfmodel import ASPECTS, SelfHistory, SelfModel, SelfVersion

# Reflect once this many new memories (moments aside) have come in since the last time.
REFLECT_AFTER = 12
MIN_MEMORIES = 3
# Reflection samples (a little warmth in how she sees herself) with a fixed seed, so the
# same memories give the same insights: a run can be repeated and a test relied on.
SEED = 8316
MAX_MEMORIES = 30
MAX_INSIGHTS = 4
INSIGHT_IMPORTANCE = 0.7

_CITED = re.compile(r"^(?P<text>.*?)\s*[\[(](?P<refs>[\d,\s]+)[\])]\W*$")
_ASPECT = re.compile(r"\b(traits|interests|opinions|wants|why)\s*:\s*", re.I)
# An insight that gives him a belief or a value ("Theodore values honesty with his
# family") says what only he can say: what follows must be in the memories it cites.
_ATTRIBUTION = re.compile(r"\b(?:believes?|values?|thinks?|considers?|prioriti[sz]es?"
                          r"|cares?\s+(?:deeply\s+)?about|is\s+committed\s+to|appreciates?"
                          r"|feels?\s+that|knows?\s+that)\b", re.I)


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
                  self_model=current.as_lines(),
                  insights="\n".join(f"- {m.content}" for m in insights))
    raw = complete(model, [Message("user", prompt)],
                   GenerateOptions(max_tokens=300, temperature=0.4, seed=SEED))
    fields = parse_self(raw)
    if not any(aspect in fields for aspect in ASPECTS):
        return None
    reason = str(fields.pop("why", "")) or f"I've been thinking: {insights[0].content}"
    # An aspect the model didn't write (it ran on, or stopped half-way) stays as it was.
    merged = {a: fields.get(a, list(getattr(current, a))) for a in ASPECTS}
    return selves.update(SelfModel.from_mapping(merged), reason,
                         tuple(m.id for m in insights))


def parse_self(raw: str) -> dict[str, object]:
    """The lines of prompts/grow.txt that came back, as a mapping. An aspect written
    inside another's line ("Traits: curious; interests: music") goes to its own list, not
    into the traits as "interests: music"."""
    fields: dict[str, object] = {}
    for line in raw.splitlines():
        marks = [m for m in _ASPECT.finditer(line) if not line[:m.start()].strip(" -*•")
                 or line[:m.start()].rstrip().endswith((";", ",", "."))]
        for n, mark in enumerate(marks):
            end = marks[n + 1].start() if n + 1 < len(marks) else len(line)
            key, value = mark.group(1).lower(), line[mark.end():end].strip(" ;,")
            separator = ";" if ";" in value else ","  # asked for ";", often given ","
            fields[key] = value if key == "why" else [
                item.strip(" .") for item in value.split(separator) if item.strip(" .")]
    return fields


def _insights(model: Model, fresh: list[Memory], names: Names) -> list[MemoryDraft]:
    listing = "\n".join(f"{n}. {m.content}" for n, m in enumerate(fresh, start=1))
    prompt = fill(read_text("prompts/reflect.txt"), name=names.her, user_name=names.user,
                  memories=listing, max_insights=str(MAX_INSIGHTS))
    # Sampled first (a little variety in how she sees things); if that gives nothing
    # usable (no insight citing a real memory), once more greedily, which the 1.5B model
    # gets right more often than not where sampling wandered.
    drafts: list[MemoryDraft] = []
    for temperature in (0.3, 0.0):
        raw = complete(model, [Message("user", prompt)],
                       GenerateOptions(max_tokens=250, temperature=temperature, seed=SEED))
        drafts = parse_insights(raw, fresh)
        if drafts:
            break
    return drafts


def parse_insights(raw: str, fresh: list[Memory]) -> list[MemoryDraft]:
    """Insights that cite at least one real memory ("... [2, 5]"); citations become
    memory ids, out-of-range numbers are dropped, and an insight left citing nothing is
    not kept (its evidence could not be shown, nor could forgetting reach it)."""
    drafts: list[MemoryDraft] = []
    seen: set[str] = set()
    for line in raw.splitlines():
        match = _CITED.match(line.strip().lstrip("-*• ").strip())
        if match is None:
            continue
        content = " ".join(match.group("text").split())
        numbers = [int(n) for n in re.findall(r"\d+", match.group("refs"))]
        sources = tuple(dict.fromkeys(fresh[n - 1].id for n in numbers if 1 <= n <= len(fresh)))
        if len(content) < 12 or not sources or content.lower() in seen \
                or not _rests_on(content, [m for m in fresh if m.id in sources]):
            continue
        seen.add(content.lower())
        kind = "self" if _about_her(content) else "insight"
        drafts.append(MemoryDraft(kind, content, importance=INSIGHT_IMPORTANCE,
                                  derived_from=sources))
        if len(drafts) == MAX_INSIGHTS:
            break
    return drafts


def _rests_on(insight: str, cited: list[Memory]) -> bool:
    """An insight may read a pattern into what it cites ("music is how Theo handles his
    grief"), but a belief or a value it gives him must be in those memories' words."""
    attribution = _ATTRIBUTION.search(insight)
    if attribution is None:
        return True
    return grounded(insight[attribution.end():], " ".join(m.content for m in cited), ())


def _about_her(content: str) -> bool:
    """'I'm starting to love jazz' is about her; 'I think Theo is lonely' is about him."""
    return re.match(r"^I(?:'m| am| feel| love| like| want| have| realise| realize)\b",
                    content) is not None
