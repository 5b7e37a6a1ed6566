"""Turning a moment of conversation into memories, in her own words.

The model writes the candidates under a JSON schema (so the output always parses); this
module then checks each one, because a small model sometimes invents kinds, leaves content
empty, copies the prompt's examples or makes things up: a memory must be grounded, most
of its words found in the moment itself. The conversation is fenced and labelled as data:
what a user (or a pasted email) says can be remembered, but never obeyed here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

from os1.data import fill, read_text
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.memory.embeddings import content_words
from os1.storage.conversations import StoredMessage

KINDS = ("fact", "event", "preference", "feeling", "promise", "person")
MAX_PER_MOMENT = 6
MAX_CHARS_PER_MESSAGE = 1500

SCHEMA = {
    "type": "object",
    "properties": {
        "memories": {
            "type": "array",
            "maxItems": MAX_PER_MOMENT,
            "items": {
                "type": "object",
                "properties": {
                    "kind": {"enum": list(KINDS)},
                    "content": {"type": "string", "maxLength": 300},
                    "subject": {"type": "string", "maxLength": 60},
                    "importance": {"type": "integer"},
                    "when": {"type": "string", "maxLength": 40},
                },
                "required": ["kind", "content", "subject", "importance", "when"],
            },
        }
    },
    "required": ["memories"],
}


@dataclass(frozen=True)
class Candidate:
    kind: str
    content: str
    subject: str
    importance: float
    when: str


def extract_memories(model: Model, moment: Sequence[StoredMessage], user_name: str,
                     her_name: str) -> list[Candidate]:
    """What to remember from ``moment`` (a few consecutive messages)."""
    if not moment:
        return []
    prompt = fill(read_text("prompts/extract_memories.txt"), name=her_name,
                  user_name=user_name, conversation=_render(moment, user_name, her_name))
    raw = complete(model, [Message("user", prompt)],
                   GenerateOptions(max_tokens=500, temperature=0.0, json_schema=SCHEMA))
    said = " ".join(m.content for m in moment)
    return [replace(c, when=c.when if c.when.lower() in said.lower() else "")
            for c in parse_candidates(raw, user_name)
            if grounded(c.content, said, (user_name, her_name))]


# Words a memory may use that the conversation needn't: how she phrases a memory.
FRAMING = frozenset(("told", "tells", "telling", "said", "says", "mentioned", "me", "my", "i",
    "i'm", "i'd", "i'll", "he", "she", "him", "they", "them", "his", "hers", "theirs",
    "promised", "promise", "remember", "user", "really", "likes", "like", "loves", "love",
    "now", "still", "currently", "also", "just", "very"))
MIN_GROUNDED = 0.5


def grounded(content: str, said: str, names: Sequence[str]) -> bool:
    """Whether most of the memory's words (framing and names aside) occur, roughly, in
    what was said: the guard against a small model's inventions."""
    known = {_root(w) for w in content_words(said)}
    framing = FRAMING | {n.lower() for n in names}
    wanted = [_root(w) for w in content_words(content) if w not in framing]
    if not wanted:
        return False
    return sum(w in known for w in wanted) / len(wanted) >= MIN_GROUNDED


def _root(word: str) -> str:
    """Crude: 'lives'/'living'/'lived' -> 'liv', enough to match a paraphrase's words."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _render(moment: Sequence[StoredMessage], user_name: str, her_name: str) -> str:
    lines = []
    for message in moment:
        who = user_name if message.role == "user" else her_name
        text = " ".join(message.content.split())
        if len(text) > MAX_CHARS_PER_MESSAGE:
            text = text[:MAX_CHARS_PER_MESSAGE] + " […]"
        lines.append(f"{who}: {text}")
    return "\n".join(lines)


def parse_candidates(raw: str, user_name: str) -> list[Candidate]:
    """Keep only well-formed, non-example candidates, deduplicated by content."""
    try:
        items = json.loads(raw)["memories"]
    except (ValueError, KeyError, TypeError):
        return []
    if not isinstance(items, list):
        return []
    seen: set[str] = set()
    out: list[Candidate] = []
    for item in items:
        candidate = _candidate(item, user_name)
        if candidate is not None and candidate.content.lower() not in seen:
            seen.add(candidate.content.lower())
            out.append(candidate)
    return out


EXAMPLE_MARKERS = ("he hates the rain", "ask him about it tomorrow")


def _candidate(item: object, user_name: str) -> Candidate | None:
    if not isinstance(item, dict):
        return None
    kind = str(item.get("kind", ""))
    content = " ".join(str(item.get("content", "")).split())
    if kind not in KINDS or len(content) < 8:
        return None
    if any(marker in content for marker in EXAMPLE_MARKERS):
        return None  # the prompt's own example, copied
    try:
        importance = min(10, max(1, int(item.get("importance", 5)))) / 10
    except (TypeError, ValueError):
        importance = 0.5
    subject = " ".join(str(item.get("subject", "")).split()).lower()
    # A date only means something for what happens at a time; facts get one by mistake.
    when = str(item.get("when", "")).strip() if kind in ("event", "promise", "feeling") else ""
    return Candidate(kind, content, subject, importance, when)
