"""Which of his letters she thinks are best, and why: each letter is given a mark by her
model (one digit, held by a grammar), the best ones chosen, and her reason for each is
what she loves in it (``praise.py``, quoting it).

Why marks one letter at a time: a 1.5B model can't compare ten letters in one prompt,
but it can say how vivid and particular one letter is; the marks then sort them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from os1.data import read_toml
from os1.letters.praise import praise
from os1.letters.proofread import Progress
from os1.letters.records import Letter
from os1.llm.base import GenerateOptions, Message, Model, complete

MARKS = "12345"


@dataclass(frozen=True)
class Choice:
    letter: Letter
    mark: int
    reason: str


def mark(model: Model, letter: Letter) -> int:
    """1 (plain, general) to 5 (vivid, particular, moving)."""
    question = read_toml("letters.toml")["prompts"]["mark"]
    reply = complete(model, [Message("system", question),
                             Message("user", letter.text[:6000])],
                     GenerateOptions(max_tokens=1, temperature=0.0, seed=8316,
                                     grammar="root ::= [1-5]"))
    digit = reply.strip()[:1]
    return int(digit) if digit and digit in MARKS else 3


def choose_best(model: Model, letters: Sequence[Letter], name: str, user_name: str,
                progress: Progress | None = None) -> list[Choice]:
    """The best third of ``letters`` (at least one), best first, with her reasons."""
    marked = []
    for done, letter in enumerate(letters, 1):
        marked.append((mark(model, letter), len(letter.text), letter))
        if progress is not None:
            progress(done, len(letters))
    marked.sort(key=lambda m: (m[0], m[1]), reverse=True)
    keep = marked[:max(1, math.ceil(len(marked) / 3))]
    return [Choice(letter, score, praise(model, letter.text, name, user_name,
                                         letter.written_for))
            for score, _, letter in keep]
