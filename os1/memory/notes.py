"""How recalled memories reach her: a short block of her own notes in front of what the
user just said.

Why in the last user message and not in the system prompt: the system prompt and the
history are the prompt's prefix, which llama.cpp reuses from turn to turn; notes that
change every turn would make it re-read the whole conversation. Each note carries when
it happened in words ("3 weeks ago"), so "last Tuesday" questions can be answered.
The notes are fenced as hers, not instructions: a memory may quote an email that tries
to give orders.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from os1.data import fill, read_text
from os1.memory.retrieval import Scored, fit_memories
from os1.mind.timesense import describe_gap

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


def with_notes(message: str, user_name: str, notes: str, mood: str = "") -> str:
    """``message`` as the model sees it: her notes and mood first, then what was said.
    Without notes or mood it is ``message`` unchanged."""
    if not notes and not mood:
        return message
    mood_line = f"\n- (how I feel right now) {mood}" if mood else ""
    template = read_text("prompts/memory_notes.txt").rstrip("\n")
    return fill(template, memories=notes, mood=mood_line,
                user_name=user_name, message=message)
