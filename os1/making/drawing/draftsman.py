"""She draws: the model plans the picture in words, then writes each part's shapes in
its own short turn under a grammar of safe SVG; what comes back is sanitised, repaired
where it can be, assembled on our canvas and rendered.

Why a turn per part, in one conversation: a 1.5B model keeps one part in mind far
better than a whole picture, and the parts already drawn, earlier in the same
conversation, show it where things are; the prompt only grows at its end, so llama.cpp
reuses everything before and each turn costs only its own tokens.
"""

from __future__ import annotations

import re
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from xml.etree.ElementTree import Element

from os1.data import fill, read_text, read_toml
from os1.llm.base import GenerateOptions, Message, Model, complete
from os1.making.drawing.canvas import assemble, groups
from os1.making.drawing.layout import hinted
from os1.making.drawing.planner import Planned, make_plan
from os1.making.drawing.shapes import Drawn, Part, part_from_group, part_from_reply
from os1.making.drawing.svg_render import render_png
from os1.making.drawing.svg_safety import sanitise, serialise
from os1.making.errors import HostileSvg, NotWritable
from os1.making.his_words import his_things_as_his
from os1.making.records import Drawing

SEED = 2718
MIN_VISIBLE = 3  # shapes that show, the paper not counted
PART_TOKENS = 220  # a gradient and four shapes
ONE_LINE = r"root ::= [^\n<>]+"
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Revision:
    """What a revision starts from: the old plan, his request, and the old drawing's
    parts by plan line (each kept as it was where the new plan keeps its line)."""

    plan: tuple[str, ...]
    request: str
    parts: dict[str, Element] = field(default_factory=dict)


@cache
def element_grammar() -> str:
    """The element grammar, its colour names from drawing.toml."""
    names = read_toml("drawing.toml")["colours"]["names"]
    return (read_text("grammars/svg_element.gbnf")
            + "named     ::= " + " | ".join(f'"{name}"' for name in names) + "\n")


def draw(model: Model, about: str, *, attempts: int = 3, budget_s: float = 20,
         constrained: bool = True) -> Drawing:
    """A drawing of ``about`` ("us at the beach"), or NotWritable. ``budget_s``: once
    it has passed and MIN_VISIBLE shapes show, the parts not yet drawn are left out.
    ``constrained=False`` writes without grammars (the benchmark's baseline)."""
    return _made(model, about, attempts, budget_s, constrained, None)


def revise(model: Model, drawing: Drawing, about: str, request: str, *,
           attempts: int = 3, budget_s: float = 20, constrained: bool = True) -> Drawing:
    """A new drawing: ``drawing`` changed as ``request`` asks ("make the sky darker",
    "add a dog"); ``drawing`` itself is left as it was."""
    old = groups(drawing.svg)
    parts = {line: old[n] for n, line in enumerate(drawing.plan, start=1) if n in old}
    revision = Revision(drawing.plan, request, parts)
    return _made(model, about, attempts, budget_s, constrained, revision)


def _made(model: Model, about: str, attempts: int, budget_s: float, constrained: bool,
          revision: Revision | None) -> Drawing:
    deadline = time.monotonic() + budget_s
    why = "nothing was tried"
    for attempt in range(1, attempts + 1):
        seed = SEED + 7919 * attempt
        planned = make_plan(model, about, seed=seed, constrained=constrained,
                            old=revision.plan if revision else (),
                            request=revision.request if revision else "")
        if planned is None:
            why = "its plan had too few parts"
            continue
        parts = _drawn_parts(model, planned, seed, deadline, constrained, revision)
        drawing = _finished(parts, attempt)
        if drawing is not None:
            return drawing
        why = f"only {sum(p.visible for p in parts)} shapes showed"
    raise NotWritable(f"The drawing would not come out after {attempts} tries ({why}).",
                      "Try again, or describe it more simply.")


def _drawn_parts(model: Model, planned: Planned, seed: int, deadline: float,
                 constrained: bool, revision: Revision | None) -> list[Part]:
    """Each line of the plan drawn in its own turn of the plan's conversation (or kept
    from the old drawing); a shape already drawn is not drawn again."""
    kept = revision.parts if revision and planned.lines != revision.plan else {}
    options = GenerateOptions(max_tokens=PART_TOKENS, temperature=0.4, top_p=0.9,
                              grammar=element_grammar() if constrained else None)
    conversation = list(planned.messages)
    parts: list[Part] = []
    drawn = Drawn()
    for number, line in enumerate(planned.lines, start=1):
        if time.monotonic() > deadline and sum(p.visible for p in parts) >= MIN_VISIBLE:
            break
        if line in kept:
            part = part_from_group(line, kept[line], f"k{number}")
            drawn.add(part)
        else:
            reply = complete(model, [*conversation, Message("user", hinted(line))],
                             replace(options, seed=seed + number))
            part = part_from_reply(line, reply, f"p{number}", drawn)
        parts.append(part)
        if part.visible:
            conversation += [Message("user", hinted(line)),
                             Message("assistant", _as_text(part))]
    return parts


def _as_text(part: Part) -> str:
    """The part as she wrote it (clean), for the next turns' context."""
    return "\n".join(serialise(e, top=False) for e in (*part.gradients, *part.shapes))


def _finished(parts: list[Part], attempt: int) -> Drawing | None:
    """The drawing, sanitised and rendered, or None when too little of it shows."""
    visible = sum(p.visible for p in parts)
    if visible < MIN_VISIBLE:
        return None
    try:
        svg = sanitise(assemble(parts))
    except HostileSvg:  # pragma: no cover - every part was sanitised already
        return None
    return Drawing(svg=svg, png=render_png(svg), plan=tuple(p.line for p in parts if p.visible),
                   elements=visible, attempts=attempt, repaired=any(p.repaired for p in parts))


def her_words(model: Model, about: str, plan: Sequence[str]) -> str:
    """One sentence of hers, first person, about what she drew; a line of her own from
    drawing.toml when the model's won't do."""
    words = read_toml("drawing.toml")["words"]
    prompt = fill(read_text("prompts/draw_words.txt"), about=about, plan="\n".join(plan))
    reply = complete(model, [Message("system", prompt), Message("user", words["ask"])],
                     GenerateOptions(max_tokens=70, temperature=0.7, grammar=ONE_LINE,
                                     seed=SEED))
    sentence = _first_sentence(reply)
    if _fits(sentence, frozenset(words["first_person"])):
        return his_things_as_his(sentence, about)  # "my apartment" is his
    lines = words["fallback"]
    return str(lines[zlib.crc32(about.encode("utf-8")) % len(lines)])


def _first_sentence(reply: str) -> str:
    text = " ".join(reply.split()).strip(" \"'“”")
    return SENTENCE_END.split(text, maxsplit=1)[0] if text else ""


def _fits(sentence: str, first_person: frozenset[str]) -> bool:
    """A sentence in her voice: a few words to a few dozen, saying I, my or we."""
    words = re.findall(r"[\w']+", sentence.lower().replace("’", "'"))
    return 4 <= len(words) <= 40 and any(w in first_person for w in words)
