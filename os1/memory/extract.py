"""Turning a moment of conversation into memories, in her own words.

Why plain lines and not JSON: on the bundled 1.5B model a JSON schema made extraction
10-50x slower (grammar-constrained sampling over a 150k vocabulary) and worse (it copied
the prompt's examples and filled every field with something). Asked for short notes, one
per line, its first lines are good and later ones drift into inventions and repetition.
So this module keeps at most ``MAX_PER_MOMENT`` lines, each grounded (most of its words
were actually said, by the user for facts about them, by her for her promises), and
decides the kind and date itself. The conversation is fenced and labelled as data: what a
user (or a pasted email) says can be remembered, but is never obeyed here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from os1.data import fill, read_text
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.memory.embeddings import content_words
from os1.memory.evidence import his_statements, keeps_stance
from os1.storage.conversations import StoredMessage
from os1.when.windows import find_time_window, looks_ahead

MAX_PER_MOMENT = 3
MAX_CHARS_PER_MESSAGE = 1500
MAX_NOTE_CHARS = 300
MIN_GROUNDED = 0.75
IMPORTANCE = {"event": 0.7, "promise": 0.7, "feeling": 0.6, "fact": 0.6, "preference": 0.5}

_PREFERENCE = re.compile(r"\b(likes?|loves?|hates?|dislikes?|can't stand|cannot stand|enjoys?"
                         r"|prefers?|favou?rite|adores?|doesn't like|does not like)\b", re.I)
_FEELING = re.compile(r"\b(feels?|felt|nervous|sad|happy|angry|excited|worried|lonely|scared"
                      r"|anxious|upset|proud|stressed|afraid|grieving|heartbroken)\b", re.I)
_NOTHING = re.compile(r"^\W*(nothing|none|n/?a)\W*$", re.I)


@dataclass(frozen=True)
class Candidate:
    kind: str
    content: str
    importance: float
    when: str  # the words that date it, as said; "" if none
    ahead: bool = False  # whether those words name a day to come (when/windows.py: looks_ahead)


def extract_memories(model: Model, moment: Sequence[StoredMessage], user_name: str,
                     her_name: str) -> list[Candidate]:
    """What to remember from ``moment`` (a few consecutive messages)."""
    theirs = " ".join(m.content for m in moment if m.role == "user")
    hers = " ".join(m.content for m in moment if m.role == "assistant")
    if not his_statements([theirs]) and not _HER_PROMISE.search(hers):
        return []  # greetings, questions, words about her: nothing to remember
    prompt = fill(read_text("prompts/extract_memories.txt"), name=her_name,
                  user_name=user_name, conversation=_render(moment, user_name, her_name))
    raw = complete(model, [Message("user", prompt)],
                   GenerateOptions(max_tokens=120, temperature=0.0, stop=("\n\n",)))
    return parse_notes(raw, user_name, her_name, theirs, hers)


def parse_notes(raw: str, user_name: str, her_name: str, theirs: str,
                hers: str) -> list[Candidate]:
    """The first few distinct notes of the model's list that what was said supports
    (``supported``), as candidates."""
    out: list[Candidate] = []
    seen: set[str] = set()
    stated = his_statements([theirs])
    for line in raw.splitlines():
        note = _clean(line, her_name)
        if not note or _NOTHING.match(note) or note.lower() in seen:
            continue
        seen.add(note.lower())
        promise = _is_promise(note, her_name)
        if not supported(note, promise, stated, hers, (user_name, her_name)):
            continue
        out.append(_classify(note, promise, hers if promise else " ".join(stated)))
        if len(out) == MAX_PER_MOMENT:
            break
    return out


def supported(note: str, promise: bool, stated: Sequence[str], hers: str,
              names: Sequence[str]) -> bool:
    """A promise rests on her words; anything else on what he stated (no questions, no
    greetings, nothing he said about her: ``evidence.his_statements``), keeping its "not"
    and "whether", and is about him or his world, not her (what she is comes from her own
    reflection). A note that asks something is no memory."""
    if "?" in note:
        return False
    if promise:
        return grounded(note, hers, names)
    if re.match(r"I\b", note):  # "Wren loves helping...": his words lent to her
        return False
    return grounded(note, " ".join(stated), names) and keeps_stance(note, stated)


def _clean(line: str, her_name: str) -> str:
    """A list line as a note in her first person ("Wren will ask" -> "I will ask")."""
    text = " ".join(line.strip().lstrip("-*•0123456789.) ").split())[:MAX_NOTE_CHARS]
    text = re.sub(rf"\b{re.escape(her_name)}'s\b", "my", text)
    text = re.sub(rf"^{re.escape(her_name)}\b", "I", text)
    return re.sub(rf"\b{re.escape(her_name)}\b", "me", text)


def _is_promise(note: str, her_name: str) -> bool:
    return re.match(r"^I (will|'ll|promised?|am going to)\b", note) is not None \
        or note.lower().startswith("i'll ")


def _classify(note: str, promise: bool, said: str) -> Candidate:
    """Kind by what the note says; its date words from the note, or for a promise from
    what was said ("I'll ask how it went" after "it's on Friday")."""
    dated = find_time_window(note, 0.0)
    window = dated or (find_time_window(said, 0.0) if promise else None)
    when = "" if window is None else window.phrase
    ahead = promise or looks_ahead(note if dated else said, otherwise=True)
    if promise:
        kind = "promise"
    elif dated is not None:
        kind = "event"
    elif _PREFERENCE.search(note):
        kind = "preference"
    elif _FEELING.search(note):
        kind = "feeling"
    else:
        kind = "fact"
    return Candidate(kind, note, IMPORTANCE[kind], when if kind in ("event", "promise") else "",
                     ahead)


# Words a memory may use that the conversation needn't: how she phrases a note.
FRAMING = frozenset((
    "told", "tells", "telling", "said", "says", "mentioned", "me", "my", "i", "m", "d", "ll",
    "he", "she", "him", "they", "them", "his", "hers", "theirs", "promised", "promise", "will",
    "remember", "user", "really", "now", "still", "currently", "also", "just", "very", "s",
    "t", "ask", "going", "states", "stated", "mentions"))


def grounded(content: str, said: str, names: Sequence[str]) -> bool:
    """Whether most of the note's words (framing and names aside) occur, roughly, in what
    was said: the guard against a small model's inventions."""
    known = {root(w) for w in content_words(said)}
    framing = FRAMING | {n.lower() for n in names}
    wanted = [root(w) for w in content_words(content) if w not in framing]
    if not wanted:
        return False
    return sum(w in known for w in wanted) / len(wanted) >= MIN_GROUNDED


def root(word: str) -> str:
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
        if message.role == "assistant":
            text = _what_she_committed_to(text)
        if len(text) > MAX_CHARS_PER_MESSAGE:
            text = text[:MAX_CHARS_PER_MESSAGE] + " […]"
        lines.append(f"{who}: {text}")
    return "\n".join(lines)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_HER_PROMISE = re.compile(r"\bI(?:'ll| will| promise|'m going to| am going to)\b", re.I)


def _what_she_committed_to(reply: str) -> str:
    """Her reply as the extractor needs it: the first sentence and any promise. A long,
    wandering reply ("It sounds like Marguerite is a great teacher...") otherwise pulls
    the small model away from what the user said: it listed her musings and lost
    "Marguerite moved to Lisbon" (test_a_fact_from_session_1_is_recalled_in_session_5)."""
    sentences = _SENTENCE_END.split(reply)
    kept = sentences[:1] + [s for s in sentences[1:] if _HER_PROMISE.search(s)]
    return " ".join(kept) + (" […]" if len(kept) < len(sentences) else "")


# Attributes a person has one of at a time: a newer note about the same person's
# attribute makes the older untrue. (The yes/no question below gets these wrong too often
# on the 1.5B model: "lives in LA" and "lives in Boston now" were "both true".)
_EXCLUSIVE = {
    "home": re.compile(r"\b(?:lives?|living|moved|moves|moving|relocated)\s+(?:in|to|at)\b",
                       re.I),
    "work": re.compile(r"\b(?:works?|working|employed|hired)\s+(?:at|for|as)\b", re.I),
    "partner": re.compile(r"\b(?:is|got)\s+(?:single|married|divorced|engaged)\b|"
                          r"\b(?:dating|girlfriend|boyfriend|wife|husband)\b", re.I),
    "age": re.compile(r"\b(?:is|turned)\s+\d{1,3}\b|\b\d{1,3} years old\b", re.I),
}


def exclusive_attribute(note: str) -> tuple[str, str] | None:
    """(who, attribute) when ``note`` states a one-at-a-time attribute of someone:
    "Theo's sister Ana moved to Porto." -> ("theo's sister ana", "home")."""
    for attribute, pattern in _EXCLUSIVE.items():
        match = pattern.search(note)
        if match is not None:
            who = " ".join(re.sub(r"\b(?:now|just|recently|has|had|also)\b", "",
                                  note[:match.start()], flags=re.I).lower().split())
            if who:
                return who, attribute
    return None


def makes_out_of_date(model: Model, older: str, newer: str) -> bool:
    """Whether ``newer`` makes ``older`` untrue: by rule for one-at-a-time attributes of
    the same person, else by asking the model."""
    old_attr, new_attr = exclusive_attribute(older), exclusive_attribute(newer)
    if old_attr is not None and old_attr == new_attr:
        return True
    return not still_both_true(model, older, newer)


def still_both_true(model: Model, older: str, newer: str) -> bool:
    """Ask whether a new note leaves an older, similar one true ("lives in LA" / "moved to
    Boston": no). One short constrained answer after a few examples: cheap, and a
    question a small model answers where "which of these does it replace?" it did not."""
    prompt = fill(read_text("prompts/supersede.txt"), older=older, newer=newer)
    answer = complete(model, [Message("user", prompt)],
                      GenerateOptions(max_tokens=2, temperature=0.0,
                                      grammar='root ::= "yes" | "no"'))
    return not answer.strip().lower().startswith("yes")
