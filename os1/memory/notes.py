"""How recalled memories reach her: a short block of her own notes, in a system message
of its own just before what the user just said.

Why there and not in the system prompt: the system prompt and the history are the
prompt's prefix, which llama.cpp reuses from turn to turn; notes that change every turn
would make it re-read the whole conversation. Why not inside the user's message (as
they once were): the small model then took them for the user's words, greeting him with
her own mood ("I'm glad you're feeling calm") and answering in the notes' brackets.
Each note carries when it happened in words ("3 weeks ago"), so "last Tuesday"
questions can be answered. The notes are fenced as hers, not instructions: a memory
may quote an email that tries to give orders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from os1.data import fill, read_text
from os1.memory.retrieval import Scored, fit_memories
from os1.memory.whose import someone_else
from os1.when.gaps import describe_gap

CountTokens = Callable[[str], int]
WEEK = 7 * 86400.0


def note_line(content: str, when: float, now: float) -> str:
    """One remembered thing, dated relative to ``now`` and, beyond a week, by the calendar
    too ("5 months ago" can't answer "when did she go to Paris?")."""
    gap = now - when
    if abs(gap) < 120:
        stamp = "just now"
    elif gap > 0:
        stamp = f"{describe_gap(gap)} ago"
    else:
        stamp = f"in {describe_gap(-gap)}"
    if abs(gap) > WEEK:
        stamp += f", {datetime.fromtimestamp(when):%-d %B %Y}"
    return f"- ({stamp}) {content}"


def select_notes(scored: Sequence[Scored], max_tokens: int, now: float,
                 count_tokens: CountTokens) -> list[Scored]:
    """The best memories whose note lines fit in ``max_tokens``, best first."""
    return fit_memories(
        scored, max_tokens,
        lambda content: count_tokens(note_line(content, now, now)) + 6)


def render_notes(scored: Sequence[Scored], now: float) -> str:
    """The note lines for ``scored``, oldest first (a story reads forwards)."""
    ordered = sorted(scored, key=lambda s: s.memory.when)
    return "\n".join(note_line(s.memory.content, s.memory.when, now) for s in ordered)


def recalled_for(question: str, selected: Sequence[Scored], now: float,
                 not_asked: Sequence[str] = ()) -> str:
    """The note lines for ``question``, and when what they hold on it is about someone
    other than the person asked about, a line saying so (memory/whose.py); ``not_asked``:
    names that are no one asked about (his, hers)."""
    lines = render_notes(selected, now)
    found = someone_else(question, [s.memory.content for s in selected], not_asked)
    if found is None:
        return lines
    asked, other = found
    return lines + "\n" + fill(read_text("prompts/someone_else.txt").strip(), asked=asked,
                               other=other)


def notes_block(user_name: str, notes: str, mood: str = "") -> str:
    """Her notes and mood, for the system message in front of what was just said;
    empty without either."""
    if not notes and not mood:
        return ""
    # "mine, not his": the small model read "I feel calm" back to him as his feeling
    mood_line = "\n" + fill(read_text("prompts/mood_note.txt").strip(), mood=mood,
                            user_name=user_name) if mood else ""
    template = read_text("prompts/memory_notes.txt").strip("\n")
    return fill(template, memories=notes, mood=mood_line, user_name=user_name)
