"""The first step of a drawing: the model plans the composition in words, one part a
line ("sun: upper right, yellow circle"), back to front, under a small line grammar.

Why plan first: a 1.5B model asked for a whole picture at once often runs out of tokens
inside a stylesheet or a row of forty circles before it closes the <svg>; a plan in
words gives each part its own short turn later, and a revision changes words, which
the model does far better than coordinates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from os1.data import fill, read_text, read_toml
from os1.llm.base import GenerateOptions, Message, Model, complete

MIN_PARTS, MAX_PARTS = 4, 12
PLAN_LINE = re.compile(r"^\s*(?:[-*•]|\d+[.)])?\s*\**([a-z][a-z0-9 '-]{0,29}?)\**\s*:\s*"
                       r"([^\n<>]{3,90})$", re.IGNORECASE)


@dataclass(frozen=True)
class Planned:
    """A plan and the conversation that made it, which the parts' turns continue."""

    lines: tuple[str, ...]
    messages: tuple[Message, ...]


@cache
def plan_grammar() -> str:
    return read_text("grammars/svg_plan.gbnf")


def system_prompt() -> str:
    """How she plans and how she draws, in one prompt that never changes: llama.cpp
    evaluates it once and reuses it for every turn of every drawing."""
    return read_text("prompts/draw_plan.txt") + "\n" + read_text("prompts/draw_elements.txt")


def _opening() -> tuple[Message, ...]:
    """The system prompt and two example plans as earlier turns."""
    asks = read_toml("drawing.toml")["plan"]
    turns = [Message("system", system_prompt())]
    for about, plan in asks["examples"]:
        turns += [Message("user", fill(asks["ask"], about=about)),
                  Message("assistant", plan)]
    return tuple(turns)


def make_plan(model: Model, about: str, *, seed: int, constrained: bool = True,
              old: Sequence[str] = (), request: str = "") -> Planned | None:
    """The plan, or None when the model's plan has too few usable parts. With ``old``
    and ``request``, the plan of a revision ("make the sky darker")."""
    asks = read_toml("drawing.toml")["plan"]
    if old:
        ask = fill(asks["revise"], about=about, plan="\n".join(old), request=request)
    else:
        ask = fill(asks["ask"], about=about)
    messages = (*_opening(), Message("user", ask))
    reply = complete(model, messages, GenerateOptions(
        max_tokens=240, temperature=0.6, top_p=0.9, repeat_penalty=1.05, seed=seed,
        grammar=plan_grammar() if constrained else None))
    lines = plan_lines(reply)
    if len(lines) < MIN_PARTS:
        return None
    return Planned(lines, (*messages, Message("assistant", "\n".join(lines))))


def plan_lines(reply: str) -> tuple[str, ...]:
    """The usable lines of a plan, normalised ("Sun : Upper right" -> "sun: upper
    right"), each part once, at most MAX_PARTS."""
    lines: list[str] = []
    for raw in reply.splitlines():
        match = PLAN_LINE.match(raw.strip())
        if match is None:
            continue
        what = " ".join(match.group(1).lower().split())
        how = " ".join(match.group(2).strip().rstrip(".").lower().split())
        line = f"{what}: {how}"
        if line not in lines:
            lines.append(line)
    return tuple(lines[:MAX_PARTS])
